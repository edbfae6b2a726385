#pragma once

// Delivers one alert channel's outbox stream: "webhook" (a POST of the ticket's JSON, or
// {"text": …} for Slack-compatible receivers) or "email" (SMTP through io/mail). Records go
// in order, one at a time, and leave the outbox only once delivered, so a crash, a restart
// or a receiver that is away loses nothing. Failures are retried with exponential backoff
// and jitter (alerts.retry_initial … retry_max; a webhook's Retry-After is honoured) for as
// long as it takes: a mail server that is down, or a password fixed later with SIGHUP, sends
// the queue then. A webhook's 4xx that no configuration change can fix (400, 413, 422, …)
// makes the record a dead letter, kept in the outbox and counted in /status. The rules and
// the manager never wait for a channel: the manager only appends to the outbox.
//
// SMTP blocks, so each mail is sent from a short-lived blocking actor (its own thread for
// that one mail); the sender itself runs on the scheduler and costs no thread while idle.

#include "io/http/http_client.hpp"
#include "io/mail/smtp_client.hpp"
#include "messages/alerts.hpp"
#include "messages/log_pipeline.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace vigil {

// --- pure logic, exposed for tests ---------------------------------------------------------------

/// What a webhook receives for a ticket: the ticket itself ("json"), or {"text": title,
/// description} ("slack").
std::string webhook_body(const alert_webhook_settings& s, const nlohmann::json& ticket);

/// A mail for a ticket: the title as subject; the description, then the ticket's facts.
mail_message alert_mail(const nlohmann::json& ticket);

smtp_settings smtp_settings_of(const alert_email_settings& s);

/// 2xx delivered; no answer, 401, 403, 404, 408, 429 or 5xx: retried (a fix to the
/// configuration or the receiver sends it); any other answer refuses the record for good.
delivery_outcome webhook_outcome(const http_client_result& r);

// --- the actor -----------------------------------------------------------------------------------

struct alert_sender_state {
  settings_ptr current;
  std::string channel; // "webhook" or "email", also the outbox stream's name
  boost::asio::io_context* io = nullptr;
  std::unique_ptr<http_client> client; // webhook
  bool busy = false;                   // fetching from the outbox or delivering
  std::optional<outbox_entry> record;
  uint64_t attempt = 0; // answers of abandoned attempts are ignored
  uint32_t failures = 0;
  std::chrono::steady_clock::time_point not_before{};
  backend_stream_status status;
  static inline const char* name = "alert_sender";
};

alert_sender_actor::behavior_type
alert_sender(alert_sender_actor::stateful_pointer<alert_sender_state> self,
             boost::asio::io_context* io, std::string channel, settings_ptr current);

/// The running sender of `channel` (registered under the channel's name), or a null handle.
alert_sender_actor find_alert_sender(caf::actor_system& sys, const std::string& channel);

} // namespace vigil
