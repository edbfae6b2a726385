#include "io/http/http_client.hpp"
#include "io/http/http_server.hpp"
#include "tests/io_http/io_http_test_support.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <mutex>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <set>

namespace vigil {
namespace {

using namespace vigil::testing;

// Runs one request and waits (bounded) for its callback.
http_client_result fetch(http_client& client, std::string method, std::string url,
                         std::map<std::string, std::string> headers = {}, std::string body = {},
                         std::chrono::milliseconds timeout = 5s) {
  auto promise = std::make_shared<std::promise<http_client_result>>();
  auto future = promise->get_future();
  client.request(std::move(method), std::move(url), std::move(headers), std::move(body), timeout,
                 [promise](http_client_result result) { promise->set_value(std::move(result)); });
  if (future.wait_for(30s) != std::future_status::ready) {
    ADD_FAILURE() << "callback never ran";
    return {};
  }
  return future.get();
}

struct echo_server {
  explicit echo_server(asio::io_context& io, http_server_options options = {})
      : server(io, options, [this](http_request request, http_responder respond) {
        {
          std::lock_guard lock{mutex};
          remote_ports.insert(request.remote_port);
          requests.push_back(request);
        }
        http_response response;
        response.content_type = "text/plain";
        response.body = request.method + " " + request.path + " " + request.body;
        response.headers.emplace_back("X-Echo", std::string(request.header("x-custom")));
        respond(std::move(response));
      }) {}
  ~echo_server() {
    server.stop();
    wait_until([&] { return server.live_connections() == 0; });
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server.port()) + path;
  }

  std::mutex mutex;
  std::set<std::uint16_t> remote_ports;
  std::vector<http_request> requests;
  http_server server;
};

TEST(HttpClient, GetAndPostToOurServer) {
  io_runner runner;
  echo_server echo{runner.io};
  http_client client{runner.io};
  auto get = fetch(client, "GET", echo.url("/api/health?x=1"));
  ASSERT_TRUE(get.transport_ok()) << get.error_detail;
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "GET /api/health ");
  EXPECT_EQ(get.header("content-type"), "text/plain");

  auto post = fetch(client, "POST", echo.url("/api/alerts/create"),
                    {{"Content-Type", "application/json"}, {"X-Custom", "v"}}, R"({"a":1})");
  ASSERT_TRUE(post.transport_ok()) << post.error_detail;
  EXPECT_EQ(post.body, R"(POST /api/alerts/create {"a":1})");
  EXPECT_EQ(post.header("x-echo"), "v");
  std::lock_guard lock{echo.mutex};
  EXPECT_EQ(echo.requests.back().header("content-type"), "application/json");
}

TEST(HttpClient, ReusesKeepAliveConnection) {
  io_runner runner;
  echo_server echo{runner.io};
  http_client client{runner.io};
  for (int i = 0; i < 5; ++i) {
    auto result = fetch(client, "POST", echo.url("/n"), {}, std::to_string(i));
    ASSERT_TRUE(result.transport_ok()) << result.error_detail;
    EXPECT_EQ(result.body, "POST /n " + std::to_string(i));
  }
  EXPECT_EQ(client.connections_opened(), 1u);
  EXPECT_EQ(client.idle_connections(), 1u);
  std::lock_guard lock{echo.mutex};
  EXPECT_EQ(echo.remote_ports.size(), 1u);
}

TEST(HttpClient, ConnectionClosedByServerWhileIdleIsReplaced) {
  io_runner runner;
  http_server_options options;
  options.keep_alive_idle_timeout = 100ms;
  echo_server echo{runner.io, options};
  http_client client{runner.io};
  ASSERT_TRUE(fetch(client, "GET", echo.url("/a")).transport_ok());
  ASSERT_TRUE(wait_until([&] { return echo.server.live_connections() == 0; }));
  auto second = fetch(client, "POST", echo.url("/b"), {}, "x");
  ASSERT_TRUE(second.transport_ok()) << second.error_detail;
  EXPECT_EQ(second.body, "POST /b x");
  EXPECT_EQ(client.connections_opened(), 2u);
}

TEST(HttpClient, HttpErrorStatusIsNotATransportError) {
  io_runner runner;
  http_server server{runner.io, {}, [](http_request, http_responder respond) {
                       auto response = json_error_response(503, "busy", "later");
                       response.headers.emplace_back("Retry-After", "7");
                       respond(response);
                     }};
  http_client client{runner.io};
  auto result = fetch(client, "GET", "http://127.0.0.1:" + std::to_string(server.port()) + "/");
  ASSERT_TRUE(result.transport_ok());
  EXPECT_EQ(result.status, 503);
  EXPECT_EQ(result.header("retry-after"), "7");
  server.stop();
}

TEST(HttpClient, TimesOutAgainstServerThatNeverAnswers) {
  io_runner runner;
  // Listening but never accepting: the connect succeeds via the backlog, no answer ever comes.
  tcp::acceptor silent{runner.io, {asio::ip::make_address("127.0.0.1"), 0}};
  http_client client{runner.io};
  auto url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/";
  auto result = fetch(client, "GET", url, {}, {}, 300ms);
  EXPECT_EQ(result.error, http_transport_error::timeout) << result.error_detail;
  EXPECT_EQ(result.status, 0);
}

TEST(HttpClient, TimesOutWhenHandlerNeverResponds) {
  io_runner runner;
  std::mutex mutex;
  std::vector<http_responder> parked;
  http_server server{runner.io, {}, [&](http_request, http_responder respond) {
                       std::lock_guard lock{mutex};
                       parked.push_back(respond);
                     }};
  http_client client{runner.io};
  auto result = fetch(client, "GET", "http://127.0.0.1:" + std::to_string(server.port()) + "/", {},
                      {}, 300ms);
  EXPECT_EQ(result.error, http_transport_error::timeout) << result.error_detail;
  server.stop();
}

TEST(HttpClient, RefusedConnectionIsATransportError) {
  io_runner runner;
  std::uint16_t port = 0;
  {
    tcp::acceptor probe{runner.io, {asio::ip::make_address("127.0.0.1"), 0}};
    port = probe.local_endpoint().port();
  } // closed: nothing listens there now
  http_client client{runner.io};
  auto result = fetch(client, "GET", "http://127.0.0.1:" + std::to_string(port) + "/");
  EXPECT_EQ(result.error, http_transport_error::connection_refused) << result.error_detail;
  EXPECT_FALSE(result.error_detail.empty());
}

TEST(HttpClient, InvalidUrl) {
  io_runner runner;
  http_client client{runner.io};
  EXPECT_EQ(fetch(client, "GET", "ftp://x/").error, http_transport_error::invalid_url);
  EXPECT_EQ(to_string(http_transport_error::invalid_url), "invalid_url");
}

TEST(HttpClient, ShutdownCancelsRequestsInFlight) {
  io_runner runner;
  tcp::acceptor silent{runner.io, {asio::ip::make_address("127.0.0.1"), 0}};
  http_client client{runner.io};
  auto promise = std::make_shared<std::promise<http_client_result>>();
  auto future = promise->get_future();
  client.request("GET", "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()), {},
                 {}, 30s, [promise](http_client_result r) { promise->set_value(r); });
  std::this_thread::sleep_for(100ms);
  client.shutdown();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(future.get().error, http_transport_error::cancelled);
}

// ---- TLS against a throw-away certificate -------------------------------------------------

struct test_certificate {
  std::string certificate_pem;
  std::string key_pem;
};

// Self-signed certificate for 127.0.0.1 (IP SAN) made with the OpenSSL API.
test_certificate make_certificate() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("vigil test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, key, EVP_sha256());
  auto to_string = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    auto size = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return out;
  };
  test_certificate out;
  out.certificate_pem = to_string([&](BIO* bio) { PEM_write_bio_X509(bio, cert); });
  out.key_pem = to_string(
      [&](BIO* bio) { PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

// Serves one HTTPS request (or one failed handshake) on its own io_context, bounded in time.
class one_shot_tls_server {
public:
  explicit one_shot_tls_server(const test_certificate& certificate)
      : tls_(asio::ssl::context::tls_server)
      , acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    tls_.use_certificate_chain(asio::buffer(certificate.certificate_pem));
    tls_.use_private_key(asio::buffer(certificate.key_pem), asio::ssl::context::pem);
    port = acceptor_.local_endpoint().port();
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec)
        return;
      stream_.emplace(std::move(socket), tls_);
      stream_->async_handshake(asio::ssl::stream_base::server, [this](beast::error_code hec) {
        if (hec)
          return;
        http::async_read(*stream_, buffer_, request_, [this](beast::error_code rec, std::size_t) {
          if (rec)
            return;
          response_.result(http::status::ok);
          response_.body() = "secure " + std::string(request_.target());
          response_.prepare_payload();
          http::async_write(*stream_, response_, [](beast::error_code, std::size_t) {});
        });
      });
    });
    thread_ = std::thread([this] { io_.run_for(10s); });
  }
  ~one_shot_tls_server() {
    asio::post(io_, [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
      if (stream_)
        beast::get_lowest_layer(*stream_).close(ignored);
    });
    thread_.join();
  }
  std::uint16_t port = 0;

private:
  asio::io_context io_;
  asio::ssl::context tls_;
  tcp::acceptor acceptor_;
  std::optional<asio::ssl::stream<tcp::socket>> stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::thread thread_;
};

TEST(HttpClient, HttpsWithTrustedCaFile) {
  auto certificate = make_certificate();
  auto ca_path = ::testing::TempDir() + "vigil_io_http_test_ca.pem";
  std::ofstream{ca_path} << certificate.certificate_pem;
  io_runner runner;
  one_shot_tls_server server{certificate};
  http_client_options options;
  options.ca_file = ca_path;
  http_client client{runner.io, options};
  auto result = fetch(client, "GET", "https://127.0.0.1:" + std::to_string(server.port) + "/x");
  ASSERT_TRUE(result.transport_ok()) << result.error_detail;
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, "secure /x");
  std::remove(ca_path.c_str());
}

TEST(HttpClient, HttpsWithUntrustedCertificateIsTlsFailure) {
  auto certificate = make_certificate();
  io_runner runner;
  one_shot_tls_server server{certificate};
  http_client client{runner.io}; // system CA store only
  auto result = fetch(client, "GET", "https://127.0.0.1:" + std::to_string(server.port) + "/");
  EXPECT_EQ(result.error, http_transport_error::tls_failed) << result.error_detail;
}

TEST(HttpClient, MissingCaFileThrows) {
  io_runner runner;
  http_client_options options;
  options.ca_file = "/nonexistent/ca.pem";
  EXPECT_THROW((http_client{runner.io, options}), std::runtime_error);
}

} // namespace
} // namespace vigil
