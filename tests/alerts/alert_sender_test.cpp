// The webhook and email channels: what a receiver gets, and the sender actor delivering the
// outbox's "webhook" and "email" streams to a real HTTP server and a real SMTP server
// (aiosmtpd) on 127.0.0.1 — retried while they are away, dead-lettered when refused.
#include "actors/alert_sender.hpp"
#include "actors/outbox.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/smtp_sink.hpp"
#include "tests/support/temp_directory.hpp"
#include "tests/support/test_backend.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <caf/all.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <thread>

using namespace std::chrono_literals;
using namespace vigil;
using json = nlohmann::json;
using test::eventually;

namespace {

const json ticket = {{"title", "🔴 CRITICAL: CPU usage at 92.3% for 5.0 minutes on web1"},
                     {"description", "CPU usage: 92.3% now\n\nRemediation:\n1. Look."},
                     {"priority", "critical"},
                     {"status", "open"},
                     {"alert_type", "cpu_critical"},
                     {"alert_id", "cpu_critical::1700000000000"},
                     {"hostname", "web1"},
                     {"metric_value", 92.3},
                     {"state", "firing"}};

TEST(alert_channels, a_webhook_gets_the_ticket_or_slack_text) {
  alert_webhook_settings w;
  EXPECT_EQ(json::parse(webhook_body(w, ticket)), ticket);
  w.format = "slack";
  auto slack = json::parse(webhook_body(w, ticket));
  ASSERT_EQ(slack.size(), 1u);
  EXPECT_EQ(slack["text"],
            ticket["title"].get<std::string>() + "\n" + ticket["description"].get<std::string>());
}

TEST(alert_channels, a_mail_has_the_title_as_subject_and_the_facts_below_the_description) {
  auto mail = alert_mail(ticket);
  EXPECT_EQ(mail.subject, ticket["title"]);
  EXPECT_EQ(mail.text_body.rfind("CPU usage: 92.3% now\n", 0), 0u) << mail.text_body;
  EXPECT_NE(mail.text_body.find("\nalert_id: cpu_critical::1700000000000\n"), std::string::npos);
  EXPECT_NE(mail.text_body.find("\nmetric_value: 92.3\n"), std::string::npos);
}

TEST(alert_channels, webhook_answers_are_delivered_retried_or_refused) {
  using verdict = delivery_outcome::verdict;
  auto answer = [](int status, std::map<std::string, std::string> headers = {}) {
    http_client_result r;
    r.status = status;
    r.headers = std::move(headers);
    r.body = "nope";
    return webhook_outcome(r);
  };
  EXPECT_EQ(answer(204).result, verdict::delivered);
  EXPECT_EQ(answer(500).result, verdict::retry);
  EXPECT_EQ(answer(401).result, verdict::retry); // a token fixed by a reload sends it
  EXPECT_EQ(answer(404).result, verdict::retry); // so does a corrected URL
  auto busy = answer(429, {{"retry-after", "7"}});
  EXPECT_EQ(busy.result, verdict::retry);
  EXPECT_EQ(busy.retry_after, 7s);
  auto refused = answer(400);
  EXPECT_EQ(refused.result, verdict::refused);
  EXPECT_EQ(refused.detail, "HTTP 400: nope");
  http_client_result down;
  down.error = http_transport_error::connection_refused;
  EXPECT_EQ(webhook_outcome(down).result, verdict::retry);
}

struct alert_sender_test : ::testing::Test {
  test::temp_directory dir;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
  std::thread io_thread{[this] { io.run(); }};
  settings base;
  std::vector<caf::actor> started;

  alert_sender_test() {
    base.state_dir = dir.path().string();
    base.alerts.retry_initial = 50ms;
    base.alerts.retry_max = 200ms;
    start_outbox();
  }

  ~alert_sender_test() override {
    for (auto name : {"outbox", "webhook", "email"})
      sys.registry().erase(caf::atom_from_string(name));
    for (auto& a : started)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
    guard.reset();
    io.stop();
    io_thread.join();
  }

  settings_ptr with(const std::function<void(settings&)>& change) {
    auto s = std::make_shared<settings>(base);
    change(*s);
    return s;
  }

  void start_outbox() {
    auto box = sys.spawn<caf::detached>(outbox, settings_ptr{std::make_shared<settings>(base)});
    sys.registry().put(caf::atom("outbox"), caf::actor_cast<caf::strong_actor_ptr>(box));
    started.push_back(caf::actor_cast<caf::actor>(box));
  }

  alert_sender_actor start_sender(const std::string& channel, settings_ptr s) {
    auto sender = sys.spawn(alert_sender, &io, channel, std::move(s));
    started.push_back(caf::actor_cast<caf::actor>(sender));
    return sender;
  }

  void append(const std::string& stream, const std::string& id, const json& payload) {
    caf::scoped_actor self{sys};
    std::vector<outbox_entry> records{{0, id, payload.dump()}};
    self->request(find_outbox(sys), 5s, atom::append_v, stream, records)
        .receive([](uint64_t) {}, [&](caf::error& err) { FAIL() << sys.render(err); });
  }

  stream_status stream(const std::string& name) {
    caf::scoped_actor self{sys};
    stream_status out;
    self->request(find_outbox(sys), 5s, atom::status_v)
        .receive(
            [&](const outbox_status& s) {
              for (auto& x : s.streams)
                if (x.name == name)
                  out = x;
            },
            [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
    return out;
  }

  backend_stream_status status(const alert_sender_actor& sender) {
    caf::scoped_actor self{sys};
    backend_stream_status out;
    self->request(sender, 5s, atom::status_v)
        .receive([&](const backend_stream_status& s) { out = s; },
                 [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
    return out;
  }
};

TEST_F(alert_sender_test, a_webhook_receives_the_ticket_after_its_failures_in_order) {
  int answered = 0;
  test::test_backend receiver{[&](const http_request&) {
    http_response r;
    r.status = ++answered <= 2 ? 503 : 200; // away twice, then back
    return r;
  }};
  auto sender = start_sender("webhook", with([&](settings& s) {
                               s.alerts.webhook.url = receiver.url() + "/hooks/vigil";
                               s.alerts.webhook.token = "hook-token-0123456789";
                             }));
  append("webhook", "a:1", ticket);
  auto second = ticket;
  second["state"] = "resolved";
  append("webhook", "a:resolved", second);
  caf::anon_send(sender, atom::resume_v);
  auto got = receiver.wait_for("/hooks/vigil", 4);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(json::parse(got[2].body), ticket);
  EXPECT_EQ(got[2].header("idempotency-key"), "a:1");
  EXPECT_EQ(got[2].header("authorization"), "Bearer hook-token-0123456789");
  EXPECT_EQ(got[2].header("content-type"), "application/json");
  EXPECT_EQ(json::parse(got[3].body)["state"], "resolved"); // the order holds
  ASSERT_TRUE(eventually([&] { return stream("webhook").records == 0; }));
  auto st = status(sender);
  EXPECT_EQ(st.sent, 2u);
  EXPECT_EQ(st.failures, 2u);
  EXPECT_EQ(st.last_error.rfind("HTTP 503", 0), 0u) << st.last_error;
}

TEST_F(alert_sender_test, a_reload_retries_the_failed_record_first_and_at_once) {
  std::atomic<bool> up{false};
  test::test_backend receiver{[&](const http_request&) {
    http_response r;
    r.status = up ? 200 : 503;
    return r;
  }};
  auto slow = [&](settings& s) {
    s.alerts.webhook.url = receiver.url();
    s.alerts.retry_initial = 10min; // no retry of its own within the test
    s.alerts.retry_max = 10min;
  };
  auto sender = start_sender("webhook", with(slow));
  auto firing = ticket;
  append("webhook", "a:1", firing);
  caf::anon_send(sender, atom::resume_v);
  ASSERT_TRUE(eventually([&] { return status(sender).failures == 1; }));
  auto resolved = ticket;
  resolved["state"] = "resolved";
  append("webhook", "a:resolved", resolved); // due now, unlike the failed one
  caf::anon_send(sender, atom::resume_v);
  up = true;
  caf::anon_send(sender, atom::configure_v, with(slow)); // SIGHUP
  auto got = receiver.wait_for("/", 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].header("idempotency-key"), "a:1"); // the firing before its recovery
  EXPECT_EQ(got[2].header("idempotency-key"), "a:resolved");
}

TEST_F(alert_sender_test, a_webhook_that_refuses_the_ticket_keeps_it_as_a_dead_letter) {
  test::test_backend receiver{[](const http_request&) {
    http_response r;
    r.status = 422;
    r.body = R"({"error":"unknown field"})";
    return r;
  }};
  auto sender =
      start_sender("webhook", with([&](settings& s) { s.alerts.webhook.url = receiver.url(); }));
  append("webhook", "a:1", ticket);
  caf::anon_send(sender, atom::resume_v);
  ASSERT_TRUE(eventually([&] { return status(sender).dead_lettered == 1; }));
  EXPECT_EQ(stream("webhook").dead_letters, 1u);
  EXPECT_EQ(receiver.requests().size(), 1u); // not retried
}

TEST_F(alert_sender_test, mail_waits_in_the_outbox_until_a_server_takes_it) {
  // No server yet: the address is a port that was just closed.
  int closed_port = 0;
  {
    test::smtp_sink gone{dir / "gone", {}};
    closed_port = gone.port();
  }
  auto settings_for = [&](int port) {
    return with([&](settings& s) {
      s.alerts.email.url = "smtp://127.0.0.1:" + std::to_string(port);
      s.alerts.email.starttls = false; // the local sink speaks plain SMTP
      s.alerts.email.from = "vigil@example.org";
      s.alerts.email.to = {"ops@example.org"};
      s.alerts.email.timeout = 5s;
    });
  };
  auto sender = start_sender("email", settings_for(closed_port));
  append("email", "a:1", ticket);
  caf::anon_send(sender, atom::resume_v);
  ASSERT_TRUE(eventually([&] { return status(sender).failures >= 2; }));
  EXPECT_EQ(stream("email").records, 1u); // kept, not dropped

  test::smtp_sink sink{dir / "sink", {}};
  ASSERT_NE(sink.port(), 0) << sink.log();
  caf::anon_send(sender, atom::configure_v, settings_for(sink.port())); // a reload
  auto mail = sink.mail(1);
  ASSERT_TRUE(mail) << sink.log();
  EXPECT_EQ(mail->subject, ticket["title"]);
  EXPECT_NE(mail->body.find("CPU usage: 92.3% now"), std::string::npos) << mail->body;
  EXPECT_NE(mail->envelope.find("ops@example.org"), std::string::npos) << mail->envelope;
  ASSERT_TRUE(eventually([&] { return stream("email").records == 0; }));
  EXPECT_EQ(status(sender).sent, 1u);
}

} // namespace
