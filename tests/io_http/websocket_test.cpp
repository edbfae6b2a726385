#include "io/http/http_server.hpp"
#include "tests/io_http/io_http_test_support.hpp"
#include "tests/io_http/ws_test_client.hpp"

#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

namespace vigil {
namespace {

using namespace vigil::testing;
using test::ws_client;
namespace websocket = beast::websocket;

http_response not_found(http_request) {
  return json_error_response(404, "not_found", "");
}

void answer_404(http_request request, http_responder respond) {
  respond(not_found(std::move(request)));
}

// Accepted sessions, as the server side of a test sees them.
struct session_book {
  std::mutex mutex;
  std::vector<std::shared_ptr<websocket_session>> sessions;
  std::vector<std::string> close_reasons;
  std::atomic<int> closed{0};

  void add(std::shared_ptr<websocket_session> session) {
    std::lock_guard lock{mutex};
    sessions.push_back(std::move(session));
  }
  std::shared_ptr<websocket_session> at(std::size_t i) {
    std::lock_guard lock{mutex};
    return i < sessions.size() ? sessions[i] : nullptr;
  }
  std::size_t size() {
    std::lock_guard lock{mutex};
    return sessions.size();
  }
  websocket_callbacks callbacks(std::function<void(std::string)> on_text = {}) {
    return {std::move(on_text), [this](std::string reason) {
              std::lock_guard lock{mutex};
              close_reasons.push_back(std::move(reason));
              ++closed;
            }};
  }
};

http_server_options websocket_options_for(std::set<std::string> paths) {
  http_server_options options;
  options.websocket_paths = std::move(paths);
  return options;
}

void stop_and_drain(http_server& server) {
  server.stop();
  EXPECT_TRUE(wait_until([&] { return server.live_connections() == 0; }));
}

TEST(WebSocket, EchoesText) {
  io_runner runner;
  session_book book;
  http_server server{runner.io, websocket_options_for({"/ws"}), answer_404,
                     [&](http_request, websocket_upgrade upgrade) {
                       auto self = std::make_shared<std::weak_ptr<websocket_session>>();
                       auto session = upgrade.accept(book.callbacks([self](std::string text) {
                         if (auto s = self->lock())
                           s->send_text("echo:" + text);
                       }));
                       *self = session;
                       book.add(session);
                     }};
  ws_client client{server.port(), "/ws"};
  ASSERT_FALSE(client.handshake_error) << client.handshake_error.message();
  client.send_text("hello");
  EXPECT_EQ(client.read_text(), "echo:hello");
  client.send_text("again");
  EXPECT_EQ(client.read_text(), "echo:again");
  EXPECT_EQ(book.at(0)->request().path, "/ws");
  client.close();
  EXPECT_TRUE(wait_until([&] { return book.closed == 1; }));
  EXPECT_FALSE(book.at(0)->is_open());
  EXPECT_FALSE(book.at(0)->send_text("after close"));
  stop_and_drain(server);
}

TEST(WebSocket, UpgradeCanBeRejectedAfterInspectingTheRequest) {
  io_runner runner;
  session_book book;
  http_server server{runner.io, websocket_options_for({"/logs", "/livelogs"}), answer_404,
                     [&](http_request request, websocket_upgrade upgrade) {
                       if (request.header("authorization") != "Bearer good") {
                         upgrade.reject(json_error_response(401, "unauthorized", "token"));
                         return;
                       }
                       book.add(upgrade.accept(book.callbacks()));
                     }};
  ws_client anonymous{server.port(), "/logs"};
  EXPECT_TRUE(anonymous.handshake_error);
  EXPECT_EQ(anonymous.handshake_response.result_int(), 401u);

  ws_client elsewhere{server.port(), "/not-a-websocket-path"};
  EXPECT_TRUE(elsewhere.handshake_error);
  EXPECT_EQ(elsewhere.handshake_response.result_int(), 404u);

  ws_client authorised{server.port(), "/livelogs?since=5", {{"Authorization", "Bearer good"}}};
  ASSERT_FALSE(authorised.handshake_error) << authorised.handshake_error.message();
  ASSERT_TRUE(wait_until([&] { return book.size() == 1; }));
  EXPECT_EQ(book.at(0)->request().query.at("since"), "5");
  book.at(0)->send_text("line");
  EXPECT_EQ(authorised.read_text(), "line");
  stop_and_drain(server);
}

TEST(WebSocket, ServerPushesToManyClients) {
  io_runner runner;
  session_book book;
  http_server server{
      runner.io, websocket_options_for({"/telemetry"}), answer_404,
      [&](http_request, websocket_upgrade upgrade) { book.add(upgrade.accept(book.callbacks())); }};
  constexpr int clients = 20;
  constexpr int messages = 50;
  std::vector<std::unique_ptr<ws_client>> peers;
  for (int i = 0; i < clients; ++i) {
    peers.push_back(std::make_unique<ws_client>(server.port(), "/telemetry"));
    ASSERT_FALSE(peers.back()->handshake_error);
  }
  ASSERT_TRUE(wait_until([&] { return book.size() == clients; }));
  for (int m = 0; m < messages; ++m)
    for (int c = 0; c < clients; ++c)
      EXPECT_TRUE(book.at(c)->send_text("sample " + std::to_string(m)));
  for (auto& peer : peers)
    for (int m = 0; m < messages; ++m)
      ASSERT_EQ(peer->read_text(), "sample " + std::to_string(m));
  for (int c = 0; c < clients; ++c)
    EXPECT_EQ(book.at(c)->dropped(), 0u);
  stop_and_drain(server);
}

TEST(WebSocket, ClientThatNeverReadsCannotStallTheServer) {
  io_runner runner;
  session_book book;
  auto options = websocket_options_for({"/logs"});
  options.websocket.max_queued_messages = 64;
  options.websocket.max_queued_bytes = 256 * 1024;
  http_server server{
      runner.io, options,
      [](http_request, http_responder respond) {
        http_response response;
        response.body = R"({"status":"ok"})";
        respond(response);
      },
      [&](http_request, websocket_upgrade upgrade) { book.add(upgrade.accept(book.callbacks())); }};
  // Tiny receive window and no reads: the server's writes to it block almost at once.
  ws_client stuck{server.port(), "/logs", {}, 4096};
  ASSERT_FALSE(stuck.handshake_error);
  ASSERT_TRUE(wait_until([&] { return book.size() == 1; }));
  ws_client healthy{server.port(), "/logs"};
  ASSERT_FALSE(healthy.handshake_error);
  ASSERT_TRUE(wait_until([&] { return book.size() == 2; }));
  auto stuck_session = book.at(0);
  auto healthy_session = book.at(1);

  const std::string line(16 * 1024, 'x');
  for (int i = 0; i < 2000; ++i) // 32 MB, far beyond socket buffers and the queue bound
    stuck_session->send_text(line);
  EXPECT_LE(stuck_session->queued_messages(), 64u);
  EXPECT_LE(stuck_session->queued_bytes(), 256u * 1024u);
  EXPECT_GT(stuck_session->dropped(), 0u);
  EXPECT_TRUE(stuck_session->is_open());

  // Everybody else is served normally meanwhile (within the same queue bound of 64).
  for (int i = 0; i < 50; ++i)
    healthy_session->send_text("line " + std::to_string(i));
  for (int i = 0; i < 50; ++i)
    ASSERT_EQ(healthy.read_text(), "line " + std::to_string(i));
  EXPECT_EQ(healthy_session->dropped(), 0u);
  raw_connection http_client{server.port()};
  EXPECT_EQ(http_client.exchange(simple_get("/status")).result_int(), 200u);

  // Still bounded after more pressure.
  for (int i = 0; i < 500; ++i)
    stuck_session->send_text(line);
  EXPECT_LE(stuck_session->queued_bytes(), 256u * 1024u);
  stop_and_drain(server);
  EXPECT_TRUE(wait_until([&] { return book.closed == 2; }));
}

TEST(WebSocket, DeadPeerIsReapedByPingTimeout) {
  io_runner runner;
  session_book book;
  auto options = websocket_options_for({"/ws"});
  options.websocket.idle_timeout = 1s;
  http_server server{runner.io, options, answer_404, [&](http_request, websocket_upgrade upgrade) {
                       book.add(upgrade.accept(book.callbacks()));
                     }};
  ws_client silent{server.port(), "/ws"}; // never reads, so never answers a ping
  ASSERT_FALSE(silent.handshake_error);
  ASSERT_TRUE(wait_until([&] { return book.size() == 1; }));
  EXPECT_TRUE(wait_until([&] { return book.closed == 1; }, 15s));
  EXPECT_TRUE(wait_until([&] { return server.live_connections() == 0; }));
  {
    std::lock_guard lock{book.mutex};
    ASSERT_EQ(book.close_reasons.size(), 1u);
    EXPECT_NE(book.close_reasons[0].find("timeout"), std::string::npos) << book.close_reasons[0];
  }
  stop_and_drain(server);
}

TEST(WebSocket, ServerCloseSendsReasonAndStopEndsSessions) {
  io_runner runner;
  session_book book;
  http_server server{
      runner.io, websocket_options_for({"/ws"}), answer_404,
      [&](http_request, websocket_upgrade upgrade) { book.add(upgrade.accept(book.callbacks())); }};
  ws_client first{server.port(), "/ws"};
  ws_client second{server.port(), "/ws"};
  ASSERT_TRUE(wait_until([&] { return book.size() == 2; }));
  book.at(0)->close("bye");
  std::string text;
  EXPECT_EQ(first.read_raw(text), websocket::error::closed);
  EXPECT_EQ(first.close_reason(), "bye");
  EXPECT_TRUE(wait_until([&] { return book.closed == 1; }));

  server.stop();
  EXPECT_TRUE(second.read_raw(text)); // connection ended
  EXPECT_TRUE(wait_until([&] { return book.closed == 2; }));
  std::lock_guard lock{book.mutex};
  EXPECT_EQ(book.close_reasons[1], "server stopped");
}

TEST(WebSocket, ManyConnectDisconnectCyclesLeaveNothingBehind) {
  io_runner runner;
  std::mutex mutex;
  std::vector<std::weak_ptr<websocket_session>> seen;
  std::atomic<int> closed{0};
  http_server server{runner.io, websocket_options_for({"/ws"}), answer_404,
                     [&](http_request, websocket_upgrade upgrade) {
                       // A deliberate reference cycle (callback -> session) that the end of
                       // the session must break.
                       auto self = std::make_shared<std::shared_ptr<websocket_session>>();
                       auto session =
                           upgrade.accept({[self](std::string text) { (*self)->send_text(text); },
                                           [&closed](std::string) { ++closed; }});
                       *self = session;
                       session->send_text("welcome"); // queued before the handshake ends
                       std::lock_guard lock{mutex};
                       seen.push_back(session);
                     }};
  constexpr int cycles = 200;
  for (int i = 0; i < cycles; ++i) {
    ws_client client{server.port(), "/ws"};
    ASSERT_FALSE(client.handshake_error) << i;
    ASSERT_EQ(client.read_text(), "welcome");
    if (i % 2 == 0)
      client.close(); // odd ones just drop the TCP connection
  }
  EXPECT_TRUE(wait_until([&] { return closed == cycles; }, 30s)) << closed;
  EXPECT_TRUE(wait_until([&] { return server.live_connections() == 0; }));
  EXPECT_TRUE(wait_until([&] {
    std::lock_guard lock{mutex};
    for (auto& weak : seen)
      if (!weak.expired())
        return false;
    return seen.size() == static_cast<std::size_t>(cycles);
  }));
  stop_and_drain(server);
}

TEST(WebSocket, UpgradeFromOutsideTheAllowListIsRefusedWith403) {
  io_runner runner;
  session_book book;
  auto options = websocket_options_for({"/ws"});
  options.allow_from = {"127.0.0.2/32"};
  std::atomic<int> offered{0};
  http_server server{runner.io, options, answer_404, [&](http_request, websocket_upgrade upgrade) {
                       ++offered;
                       book.add(upgrade.accept(book.callbacks()));
                     }};
  ws_client outsider{server.port(), "/ws"}; // connects from 127.0.0.1
  EXPECT_TRUE(outsider.handshake_error);
  EXPECT_EQ(outsider.handshake_response.result_int(), 403u);
  EXPECT_EQ(offered.load(), 0);
  EXPECT_EQ(server.counters().rejected_forbidden, 1u);
  stop_and_drain(server);
}

TEST(WebSocket, UpgradesCountTowardsTheRateLimitAndAreRefusedWith429OverIt) {
  io_runner runner;
  session_book book;
  auto options = websocket_options_for({"/ws"});
  options.rate_limit_per_minute = 2;
  http_server server{runner.io, options, answer_404, [&](http_request, websocket_upgrade upgrade) {
                       book.add(upgrade.accept(book.callbacks()));
                     }};
  ws_client first{server.port(), "/ws"};
  ASSERT_FALSE(first.handshake_error) << first.handshake_error.message();
  raw_connection plain{server.port()};
  EXPECT_EQ(plain.exchange(simple_get("/")).result_int(), 404u);
  // The upgrade took the first of the two tokens, the request above the second.
  EXPECT_EQ(plain.exchange(simple_get("/")).result_int(), 429u);
  ws_client second{server.port(), "/ws"};
  EXPECT_TRUE(second.handshake_error);
  EXPECT_EQ(second.handshake_response.result_int(), 429u);
  EXPECT_FALSE(second.handshake_response[http::field::retry_after].empty());
  EXPECT_EQ(book.size(), 1u);
  EXPECT_EQ(server.counters().rejected_rate_limited, 2u);
  stop_and_drain(server);
}

} // namespace
} // namespace vigil
