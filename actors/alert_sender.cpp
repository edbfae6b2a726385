#include "actors/alert_sender.hpp"

#include "actors/outbox.hpp"
#include "actors/retry_backoff.hpp"
#include "io/http/retry_after.hpp"

#include <caf/all.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using sender_pointer = alert_sender_actor::stateful_pointer<alert_sender_state>;
using steady = std::chrono::steady_clock;

// Records the manager appends are announced with a resume; this poll is the safety net.
constexpr auto poll_interval = 5s;
constexpr auto outbox_timeout = 10s;

int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string text_of(const json& ticket, const char* key) {
  auto i = ticket.find(key);
  if (i == ticket.end() || i->is_null())
    return {};
  return i->is_string() ? i->get<std::string>() : i->dump();
}

bool configured(const sender_pointer self) {
  auto& a = self->state.current->alerts;
  return self->state.channel == "webhook" ? !a.webhook.url.empty() : !a.email.url.empty();
}

void make_client(sender_pointer self) {
  auto& w = self->state.current->alerts.webhook;
  http_client_options o;
  o.verify_peer = w.verify_peer;
  o.ca_file = w.ca_file;
  o.user_agent = std::string{"vigil/"} + VIGIL_VERSION;
  self->state.client = std::make_unique<http_client>(*self->state.io, o);
}

void post_webhook(sender_pointer self, uint64_t attempt, json ticket) {
  auto& st = self->state;
  auto& w = st.current->alerts.webhook;
  std::map<std::string, std::string> headers{{"content-type", "application/json"},
                                             {"idempotency-key", st.record->id}};
  if (!w.token.empty())
    headers["authorization"] = "Bearer " + w.token;
  auto handle = caf::actor_cast<alert_sender_actor>(self);
  st.client->request("POST", w.url, std::move(headers), webhook_body(w, ticket), w.timeout,
                     [handle, attempt](http_client_result r) {
                       caf::anon_send(handle, atom::answered_v, attempt, webhook_outcome(r));
                     });
}

// One mail, on a thread of its own for as long as the SMTP exchange takes (bounded by the
// configured timeout); the answer comes back as a message.
void send_email(sender_pointer self, uint64_t attempt, const json& ticket) {
  auto handle = caf::actor_cast<alert_sender_actor>(self);
  self->home_system().spawn(
      [](caf::blocking_actor*, alert_sender_actor reply_to, uint64_t n, smtp_settings settings,
         mail_message mail) {
        delivery_outcome outcome;
        if (auto error = send_mail(settings, mail))
          outcome.detail = std::move(*error);
        else
          outcome.result = delivery_outcome::verdict::delivered;
        caf::anon_send(reply_to, atom::answered_v, n, std::move(outcome));
      },
      handle, attempt, smtp_settings_of(self->state.current->alerts.email), alert_mail(ticket));
}

void deliver(sender_pointer self) {
  auto& st = self->state;
  auto attempt = ++st.attempt;
  auto ticket = json::parse(st.record->payload, nullptr, false);
  if (!ticket.is_object()) {
    delivery_outcome bad{delivery_outcome::verdict::refused, "not a JSON ticket", {}};
    caf::anon_send(caf::actor_cast<alert_sender_actor>(self), atom::answered_v, attempt, bad);
    return;
  }
  if (st.channel == "webhook")
    post_webhook(self, attempt, std::move(ticket));
  else
    send_email(self, attempt, ticket);
}

// Delivers the stream's oldest record, if it may: one at a time keeps the order. A record
// that failed stays the one in hand (its backoff is kept here, not in the outbox), so no
// later record overtakes it, and a reload or a restart tries it again at once.
void pump(sender_pointer self) {
  auto& st = self->state;
  if (!configured(self) || st.busy || steady::now() < st.not_before)
    return;
  if (st.record) {
    st.busy = true;
    return deliver(self);
  }
  auto outbox = find_outbox(self->home_system());
  if (!outbox)
    return; // the poll tries again
  st.busy = true;
  self->request(outbox, outbox_timeout, atom::publish_v, st.channel, int64_t{0}, uint32_t{1})
      .then(
          [=](std::vector<outbox_entry>& records) {
            auto& st = self->state;
            if (records.empty()) {
              st.busy = false;
              return;
            }
            st.record = std::move(records.front());
            deliver(self);
          },
          [=](caf::error&) { self->state.busy = false; });
}

void on_outcome(sender_pointer self, delivery_outcome& outcome) {
  auto& st = self->state;
  st.busy = false;
  auto seq = st.record->seq;
  auto id = st.record->id;
  auto outbox = find_outbox(self->home_system());
  if (outcome.result != delivery_outcome::verdict::retry)
    st.record.reset(); // done with it (the outbox keeps it until it is confirmed)
  switch (outcome.result) {
  case delivery_outcome::verdict::delivered:
    if (outbox)
      self->send(outbox, atom::confirmed_v, st.channel, std::vector<int64_t>{seq});
    st.failures = 0;
    st.status.retry_at_ms = 0;
    ++st.status.sent;
    st.status.last_success_ms = epoch_ms(std::chrono::system_clock::now());
    return pump(self);
  case delivery_outcome::verdict::retry: {
    ++st.failures;
    ++st.status.failures;
    auto& a = st.current->alerts;
    auto delay =
        std::max(retry_backoff(a.retry_initial, a.retry_max, st.failures), outcome.retry_after);
    auto retry_at = std::chrono::system_clock::now() + delay;
    st.status.last_error = outcome.detail;
    st.status.retry_at_ms = epoch_ms(retry_at);
    st.not_before = steady::now() + delay;
    if (st.failures == 1 || st.failures % 10 == 0)
      spdlog::warn("alert {}: delivery failed ({}), attempt {}; retrying in {} ms", st.channel,
                   outcome.detail, st.failures, delay.count());
    self->delayed_send(self, delay, atom::resume_v);
    return;
  }
  case delivery_outcome::verdict::refused:
    spdlog::error("alert {}: {} refused for good; kept as a dead letter ({})", st.channel, id,
                  outcome.detail);
    ++st.status.dead_lettered;
    st.status.last_error = outcome.detail;
    st.failures = 0;
    if (outbox)
      self->send(outbox, atom::reject_v, st.channel, seq, outcome.detail);
    return pump(self);
  }
}

} // namespace

std::string webhook_body(const alert_webhook_settings& s, const json& ticket) {
  if (s.format != "slack")
    return ticket.dump();
  return json{{"text", text_of(ticket, "title") + "\n" + text_of(ticket, "description")}}.dump();
}

mail_message alert_mail(const json& ticket) {
  mail_message m;
  m.subject = text_of(ticket, "title");
  m.text_body = text_of(ticket, "description") + "\n\n";
  for (auto key :
       {"alert_id", "alert_type", "priority", "state", "hostname", "node_id", "system_ip",
        "metric_value", "threshold", "peak_value", "started_at", "resolved_at", "timestamp"})
    if (auto text = text_of(ticket, key); !text.empty())
      m.text_body += fmt::format("{}: {}\n", key, text);
  return m;
}

smtp_settings smtp_settings_of(const alert_email_settings& s) {
  smtp_settings out;
  out.url = s.url;
  out.starttls = s.starttls;
  out.username = s.username;
  out.password = s.password;
  out.from = s.from;
  out.to = s.to;
  out.verify_peer = s.verify_peer;
  out.ca_file = s.ca_file;
  out.timeout = s.timeout;
  return out;
}

delivery_outcome webhook_outcome(const http_client_result& r) {
  using verdict = delivery_outcome::verdict;
  if (!r.transport_ok())
    return {verdict::retry, std::string{to_string(r.error)} + ": " + r.error_detail, {}};
  if (r.status >= 200 && r.status < 300)
    return {verdict::delivered, {}, {}};
  auto detail = "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 512);
  bool retry = r.status >= 500 || r.status == 401 || r.status == 403 || r.status == 404 ||
               r.status == 408 || r.status == 429;
  if (!retry)
    return {verdict::refused, std::move(detail), {}};
  std::chrono::milliseconds wait{};
  if (r.status == 429 || r.status == 503)
    if (auto ra = parse_retry_after(r.header("retry-after")))
      wait = *ra;
  return {verdict::retry, std::move(detail), wait};
}

alert_sender_actor find_alert_sender(caf::actor_system& sys, const std::string& channel) {
  return caf::actor_cast<alert_sender_actor>(sys.registry().get(caf::atom_from_string(channel)));
}

alert_sender_actor::behavior_type
alert_sender(alert_sender_actor::stateful_pointer<alert_sender_state> self,
             boost::asio::io_context* io, std::string channel, settings_ptr current) {
  auto& st = self->state;
  st.io = io;
  st.channel = std::move(channel);
  st.current = std::move(current);
  st.status.name = st.channel;
  if (st.channel == "webhook")
    make_client(self);
  self->set_exit_handler([=](caf::exit_msg& em) {
    if (self->state.client)
      self->state.client->shutdown();
    self->quit(em.reason);
  });
  pump(self);
  self->delayed_send(self, poll_interval, atom::tick_v);
  return {
      [=](atom::resume) { pump(self); },
      [=](atom::tick) {
        pump(self);
        self->delayed_send(self, poll_interval, atom::tick_v);
      },
      [=](atom::answered, uint64_t attempt, delivery_outcome& outcome) {
        if (attempt == self->state.attempt && self->state.record)
          on_outcome(self, outcome);
      },
      [=](atom::status) { return self->state.status; },
      [=](atom::configure, settings_ptr& s) {
        auto& st = self->state;
        const auto& before = st.current->alerts.webhook;
        const auto& after = s->alerts.webhook;
        bool webhook = st.channel == "webhook";
        bool new_client =
            webhook && (after.ca_file != before.ca_file || after.verify_peer != before.verify_peer);
        bool new_target = webhook && (new_client || after.url != before.url ||
                                      after.token != before.token || after.format != before.format);
        st.current = std::move(s);
        if (new_client) {
          st.client->shutdown();
          make_client(self);
        }
        if (st.busy && st.record && new_target) {
          ++st.attempt; // the answer in flight (from the old address) is ignored: sent anew
          st.busy = false;
        }
        st.not_before = {}; // a fixed address, token or password is tried at once
        pump(self);
      },
  };
}

} // namespace vigil
