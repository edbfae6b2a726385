#include "io/http/http_server.hpp"
#include "tests/io_http/io_http_test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <mutex>
#include <optional>

namespace vigil {
namespace {

using namespace vigil::testing;

http_response text_response(std::string body) {
  http_response response;
  response.content_type = "text/plain";
  response.body = std::move(body);
  return response;
}

// Stops the server and waits for its connections to go, so nothing outlives the test.
void stop_and_drain(http_server& server) {
  server.stop();
  EXPECT_TRUE(wait_until([&] { return server.live_connections() == 0; }));
}

TEST(HttpServer, HandlerReceivesParsedRequest) {
  io_runner runner;
  std::mutex mutex;
  std::optional<http_request> seen;
  http_server server{runner.io, {}, [&](http_request request, http_responder respond) {
                       {
                         std::lock_guard lock{mutex};
                         seen = request;
                       }
                       http_response response = text_response("created");
                       response.status = 201;
                       response.headers.emplace_back("X-Request-Path", request.path);
                       respond(std::move(response));
                     }};
  ASSERT_NE(server.port(), 0);
  raw_connection client{server.port()};
  auto response = client.exchange("POST /api/x%20y?a=1&b=two%20words&flag HTTP/1.1\r\n"
                                  "Host: 127.0.0.1\r\nX-Token: abc\r\nContent-Length: 5\r\n"
                                  "\r\nhello");
  EXPECT_EQ(response.result_int(), 201u);
  EXPECT_EQ(response.body(), "created");
  EXPECT_EQ(response[http::field::content_type], "text/plain");
  EXPECT_EQ(response["X-Request-Path"], "/api/x y");
  std::lock_guard lock{mutex};
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->method, "POST");
  EXPECT_EQ(seen->target, "/api/x%20y?a=1&b=two%20words&flag");
  EXPECT_EQ(seen->path, "/api/x y");
  EXPECT_EQ(seen->query.at("a"), "1");
  EXPECT_EQ(seen->query.at("b"), "two words");
  EXPECT_EQ(seen->query.at("flag"), "");
  EXPECT_EQ(seen->header("x-token"), "abc");
  EXPECT_EQ(seen->body, "hello");
  EXPECT_EQ(seen->remote_address, "127.0.0.1");
  EXPECT_NE(seen->remote_port, 0);
  stop_and_drain(server);
}

TEST(HttpServer, ResponderCalledLaterFromAnotherThread) {
  io_runner runner;
  std::mutex mutex;
  std::vector<std::thread> workers;
  std::thread::id handler_thread;
  http_server server{runner.io, {}, [&](http_request request, http_responder respond) {
                       std::lock_guard lock{mutex};
                       handler_thread = std::this_thread::get_id();
                       // Like an actor answering later: a copy of the responder crosses threads.
                       workers.emplace_back([respond, path = request.path] {
                         std::this_thread::sleep_for(100ms);
                         respond(text_response("late " + path));
                       });
                     }};
  raw_connection client{server.port()};
  auto response = client.exchange(simple_get("/slow"));
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), "late /slow");
  {
    std::lock_guard lock{mutex};
    for (auto& worker : workers) {
      EXPECT_NE(worker.get_id(), handler_thread);
      worker.join();
    }
  }
  stop_and_drain(server);
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  io_runner runner;
  std::mutex mutex;
  std::set<std::uint16_t> ports;
  http_server server{runner.io, {}, [&](http_request request, http_responder respond) {
                       {
                         std::lock_guard lock{mutex};
                         ports.insert(request.remote_port);
                       }
                       respond(text_response(request.path));
                     }};
  raw_connection client{server.port()};
  EXPECT_EQ(client.exchange(simple_get("/one")).body(), "/one");
  EXPECT_EQ(client.exchange(simple_get("/two")).body(), "/two");
  auto last = client.exchange(simple_get("/three", false));
  EXPECT_EQ(last.body(), "/three");
  EXPECT_FALSE(last.keep_alive());
  EXPECT_TRUE(client.closed_by_peer());
  std::lock_guard lock{mutex};
  EXPECT_EQ(ports.size(), 1u);
  stop_and_drain(server);
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  io_runner runner;
  std::mutex mutex;
  std::vector<std::thread> workers;
  std::atomic<int> concurrent{0};
  std::atomic<int> max_concurrent{0};
  http_server server{runner.io, {}, [&](http_request request, http_responder respond) {
                       max_concurrent = std::max(max_concurrent.load(), ++concurrent);
                       std::lock_guard lock{mutex};
                       // The first answer comes late: the second must still come after it.
                       auto delay = request.path == "/first" ? 150ms : 0ms;
                       workers.emplace_back([&, respond, delay, path = request.path] {
                         std::this_thread::sleep_for(delay);
                         --concurrent;
                         respond(text_response(path));
                       });
                     }};
  raw_connection client{server.port()};
  client.write(simple_get("/first") + simple_get("/second"));
  EXPECT_EQ(client.read_response().body(), "/first");
  EXPECT_EQ(client.read_response().body(), "/second");
  EXPECT_EQ(max_concurrent.load(), 1);
  {
    std::lock_guard lock{mutex};
    for (auto& worker : workers)
      worker.join();
  }
  stop_and_drain(server);
}

TEST(HttpServer, BodyTooLargeIs413Json) {
  io_runner runner;
  std::atomic<int> calls{0};
  http_server_options options;
  options.max_body_bytes = 16;
  http_server server{runner.io, options, [&](http_request, http_responder respond) {
                       ++calls;
                       respond(text_response("ok"));
                     }};
  raw_connection client{server.port()};
  auto response = client.exchange(
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'));
  EXPECT_EQ(response.result_int(), 413u);
  EXPECT_EQ(response[http::field::content_type], "application/json");
  auto body = nlohmann::json::parse(response.body());
  EXPECT_EQ(body.at("error"), "payload_too_large");
  EXPECT_TRUE(body.contains("detail"));
  EXPECT_EQ(calls.load(), 0);
  stop_and_drain(server);
}

TEST(HttpServer, MalformedRequestIs400Json) {
  io_runner runner;
  http_server server{
      runner.io, {}, [&](http_request, http_responder respond) { respond(text_response("ok")); }};
  for (const std::string bad :
       {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", "NOT A REQUEST AT ALL\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n"}) {
    raw_connection client{server.port()};
    auto response = client.exchange(bad);
    EXPECT_EQ(response.result_int(), 400u) << bad;
    auto body = nlohmann::json::parse(response.body());
    EXPECT_EQ(body.at("error"), "bad_request");
    EXPECT_FALSE(body.at("detail").get<std::string>().empty());
  }
  stop_and_drain(server);
}

TEST(HttpServer, BindingAnAddressInUseThrowsNamingIt) {
  io_runner runner;
  auto handler = [](http_request, http_responder respond) { respond(text_response("ok")); };
  http_server first{runner.io, {}, handler};
  http_server_options options;
  options.port = first.port();
  try {
    http_server second{runner.io, options, handler};
    FAIL() << "second bind succeeded";
  } catch (const http_bind_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())),
              std::string::npos)
        << e.what();
  }
  options.bind_address = "300.1.2.3";
  options.port = 8754;
  try {
    http_server third{runner.io, options, handler};
    FAIL() << "invalid address accepted";
  } catch (const http_bind_error& e) {
    EXPECT_NE(std::string(e.what()).find("300.1.2.3:8754"), std::string::npos) << e.what();
  }
  stop_and_drain(first);
}

TEST(HttpServer, ConnectionsBeyondTheLimitAreClosed) {
  io_runner runner;
  http_server_options options;
  options.max_connections = 2;
  http_server server{runner.io, options, [&](http_request request, http_responder respond) {
                       respond(text_response(request.path));
                     }};
  raw_connection first{server.port()};
  raw_connection second{server.port()};
  EXPECT_EQ(first.exchange(simple_get("/a")).body(), "/a");
  EXPECT_EQ(second.exchange(simple_get("/b")).body(), "/b");
  raw_connection third{server.port()};
  EXPECT_TRUE(third.closed_by_peer());
  EXPECT_EQ(server.live_connections(), 2u);
  // The two admitted connections still work.
  EXPECT_EQ(first.exchange(simple_get("/c")).body(), "/c");
  stop_and_drain(server);
}

TEST(HttpServer, DroppedResponderAnswers500AndThrowingHandlerToo) {
  io_runner runner;
  http_server server{runner.io, {}, [&](http_request request, http_responder) {
                       if (request.path == "/throw")
                         throw std::runtime_error("boom");
                       // "/drop": the responder is destroyed without a call.
                     }};
  raw_connection client{server.port()};
  auto dropped = client.exchange(simple_get("/drop"));
  EXPECT_EQ(dropped.result_int(), 500u);
  auto thrown = client.exchange(simple_get("/throw"));
  EXPECT_EQ(thrown.result_int(), 500u);
  EXPECT_EQ(nlohmann::json::parse(thrown.body()).at("detail"), "boom");
  stop_and_drain(server);
}

TEST(HttpServer, HandlerThatNeverAnswersGets503AfterTimeout) {
  io_runner runner;
  std::mutex mutex;
  std::vector<http_responder> parked;
  http_server_options options;
  options.handler_timeout = 200ms;
  http_server server{runner.io, options, [&](http_request, http_responder respond) {
                       std::lock_guard lock{mutex};
                       parked.push_back(respond);
                     }};
  raw_connection client{server.port()};
  auto response = client.exchange(simple_get("/never"));
  EXPECT_EQ(response.result_int(), 503u);
  {
    // A late answer is ignored; the connection keeps working.
    std::lock_guard lock{mutex};
    parked.front()(text_response("too late"));
  }
  stop_and_drain(server);
}

TEST(HttpServer, ExpectContinueIsHonoured) {
  io_runner runner;
  http_server server{runner.io, {}, [&](http_request request, http_responder respond) {
                       respond(text_response(request.body));
                     }};
  raw_connection client{server.port()};
  client.write("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  auto interim = client.read_response();
  EXPECT_EQ(interim.result_int(), 100u);
  client.write("abc");
  EXPECT_EQ(client.read_response().body(), "abc");
  stop_and_drain(server);
}

TEST(HttpServer, StopClosesIdleConnections) {
  io_runner runner;
  http_server server{
      runner.io, {}, [&](http_request, http_responder respond) { respond(text_response("ok")); }};
  raw_connection client{server.port()};
  EXPECT_EQ(client.exchange(simple_get("/")).body(), "ok");
  EXPECT_EQ(server.live_connections(), 1u);
  server.stop();
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_TRUE(wait_until([&] { return server.live_connections() == 0; }));
  EXPECT_TRUE(wait_until([&] {
    try {
      raw_connection again{server.port()};
      return false;
    } catch (const std::exception&) {
      return true; // refused: the listener is closed
    }
  }));
}

TEST(HttpServer, AllowListRefusesOtherAddressesWith403AndServesListedOnes) {
  io_runner runner;
  std::atomic<int> calls{0};
  http_server_options options;
  options.allow_from = {"127.0.0.2/32"};
  http_server server{runner.io, options, [&](http_request request, http_responder respond) {
                       ++calls;
                       respond(text_response(request.remote_address));
                     }};
  raw_connection outsider{server.port(), "127.0.0.1"};
  auto refused = outsider.exchange(simple_get("/"));
  EXPECT_EQ(refused.result_int(), 403u);
  EXPECT_EQ(refused[http::field::content_type], "application/json");
  EXPECT_FALSE(refused.keep_alive());
  auto body = nlohmann::json::parse(refused.body());
  EXPECT_EQ(body.at("error"), "forbidden");
  EXPECT_EQ(body.at("detail"), "client address 127.0.0.1 is not in api.allow_from");
  EXPECT_TRUE(outsider.closed_by_peer());

  raw_connection listed{server.port(), "127.0.0.2"};
  auto served = listed.exchange(simple_get("/"));
  EXPECT_EQ(served.result_int(), 200u);
  EXPECT_EQ(served.body(), "127.0.0.2");
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(server.counters().rejected_forbidden, 1u);
  EXPECT_EQ(server.counters().rejected_rate_limited, 0u);
  stop_and_drain(server);
}

TEST(HttpServer, RefusedClientIsAnsweredAtOnceAndWhatItSendsIsDiscarded) {
  io_runner runner;
  http_server_options options;
  options.allow_from = {"10.0.0.0/8", "::1/128"};
  options.read_timeout = 1s;
  http_server server{runner.io, options,
                     [&](http_request, http_responder respond) { respond(text_response("ok")); }};
  raw_connection outsider{server.port(), "127.0.0.5"};
  // Nothing is written: the server answers on accept, reading nothing from the client.
  EXPECT_EQ(outsider.read_response().result_int(), 403u);
  // What the client sends afterwards is discarded, not answered with a reset (which could
  // destroy the 403 before a slower client reads it): later writes still succeed.
  EXPECT_NO_THROW(outsider.write(simple_get("/")));
  std::this_thread::sleep_for(50ms); // a reset, if one came, would be here by now
  EXPECT_NO_THROW(outsider.write("more"));
  EXPECT_TRUE(outsider.closed_by_peer());
  // A refused client that keeps its socket open holds a connection slot for read_timeout only.
  EXPECT_TRUE(wait_until([&] { return server.live_connections() == 0; }, 5s));
  stop_and_drain(server);
}

TEST(HttpServer, BadAllowListEntryThrowsNamingIt) {
  io_runner runner;
  http_server_options options;
  options.allow_from = {"127.0.0.1", "10.0.0.1/8"};
  try {
    http_server server{runner.io, options, [](http_request, http_responder) {}};
    FAIL() << "bad allow_from accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("allow_from[1]: \"10.0.0.1/8\" is not a CIDR"),
              std::string::npos)
        << e.what();
  }
}

TEST(HttpServer, RequestsOverTheRateLimitGet429WithRetryAfterOnALiveConnection) {
  io_runner runner;
  std::atomic<int> calls{0};
  http_server_options options;
  options.rate_limit_per_minute = 5;
  http_server server{runner.io, options, [&](http_request request, http_responder respond) {
                       ++calls;
                       respond(text_response(request.path));
                     }};
  raw_connection busy{server.port(), "127.0.0.1"};
  for (int i = 1; i <= 5; ++i)
    EXPECT_EQ(busy.exchange(simple_get("/" + std::to_string(i))).result_int(), 200u) << i;
  auto limited = busy.exchange(simple_get("/6"));
  EXPECT_EQ(limited.result_int(), 429u);
  EXPECT_TRUE(limited.keep_alive());
  EXPECT_EQ(nlohmann::json::parse(limited.body()).at("error"), "too_many_requests");
  // 5 a minute is a token every 12 s; the test may have taken a few of them already.
  auto retry_after = std::stoi(std::string(limited[http::field::retry_after]));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 12);
  // The connection stays usable (and stays limited).
  EXPECT_EQ(busy.exchange(simple_get("/7")).result_int(), 429u);

  raw_connection other{server.port(), "127.0.0.3"};
  EXPECT_EQ(other.exchange(simple_get("/other")).result_int(), 200u);
  EXPECT_EQ(calls.load(), 6);
  EXPECT_EQ(server.counters().rejected_rate_limited, 2u);
  EXPECT_EQ(server.counters().rejected_forbidden, 0u);
  stop_and_drain(server);
}

} // namespace
} // namespace vigil
