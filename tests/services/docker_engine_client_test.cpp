// io/docker/docker_engine_client against a Beast HTTP server on a unix socket that answers like
// the Docker Engine API: a realistic container list, a malformed body, an error status, an
// engine that never answers, and sockets where no engine is.

#include "io/docker/docker_engine_client.hpp"
#include "tests/services/fake_docker_engine.hpp"
#include "tests/support/temp_directory.hpp"

#include <boost/asio/local/stream_protocol.hpp>
#include <gtest/gtest.h>

namespace vigil {
namespace {

using namespace std::chrono_literals;

constexpr auto request_timeout = 10s;

TEST(docker_engine_client, lists_every_container_from_the_engine_answer) {
  test::temp_directory dir;
  test::fake_docker_engine engine{dir / "docker.sock"};
  auto l = docker::list_containers(engine.path().string(), request_timeout);
  ASSERT_TRUE(l.reachable) << l.reason;
  ASSERT_EQ(l.containers.size(), 2u);
  auto& exited = l.containers[0];
  EXPECT_EQ(exited.id, "8dfafdbc3a40b7f2d5a1c3e9f0a6b4c2d8e1f3a5b7c9d0e2f4a6b8c0d2e4f6a8");
  EXPECT_EQ(exited.name, "boring_feynman"); // without Docker's leading "/"
  EXPECT_EQ(exited.image, "ubuntu:latest");
  EXPECT_EQ(exited.state, "exited");
  EXPECT_EQ(exited.status, "Exited (0) 3 days ago");
  EXPECT_EQ(exited.created, 1367854155);
  auto& web = l.containers[1];
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.image, "nginx:1.25");
  EXPECT_EQ(web.state, "running");
  EXPECT_EQ(web.status, "Up 2 hours");
  auto requests = engine.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/containers/json?all=1"); // stopped containers too
  EXPECT_EQ(requests[0].version, 11u);
  EXPECT_FALSE(requests[0].host.empty()); // HTTP/1.1 requires it
}

TEST(docker_engine_client, an_empty_list_is_reachable_with_no_containers) {
  test::temp_directory dir;
  test::fake_docker_engine engine{dir / "docker.sock"};
  engine.answer(200, "[]");
  auto l = docker::list_containers(engine.path().string(), request_timeout);
  EXPECT_TRUE(l.reachable);
  EXPECT_TRUE(l.containers.empty());
}

TEST(docker_engine_client, a_malformed_body_is_an_error) {
  test::temp_directory dir;
  test::fake_docker_engine engine{dir / "docker.sock"};
  for (auto body : {R"([{"Id": "abc", "Names": ["/x"])",          // cut off
                    R"({"Id": "abc"})",                           // not a list
                    R"([{"Names": ["/x"], "State": "running"}])", // no Id
                    R"([{"Id": "abc", "State": 7}])"}) {          // wrong type
    engine.answer(200, body);
    try {
      docker::list_containers(engine.path().string(), request_timeout);
      ADD_FAILURE() << "no error for " << body;
    } catch (const docker::engine_error& e) {
      EXPECT_NE(std::string{e.what()}.find("malformed container list"), std::string::npos)
          << e.what();
    }
  }
}

TEST(docker_engine_client, an_error_status_is_an_error_with_the_engine_message) {
  test::temp_directory dir;
  test::fake_docker_engine engine{dir / "docker.sock"};
  engine.answer(500, R"({"message": "layer store is corrupt"})");
  try {
    docker::list_containers(engine.path().string(), request_timeout);
    ADD_FAILURE() << "no error";
  } catch (const docker::engine_error& e) {
    EXPECT_NE(std::string{e.what()}.find("500"), std::string::npos) << e.what();
    EXPECT_NE(std::string{e.what()}.find("layer store is corrupt"), std::string::npos) << e.what();
  }
}

TEST(docker_engine_client, an_engine_that_never_answers_is_given_up_after_the_timeout) {
  test::temp_directory dir;
  test::fake_docker_engine engine{dir / "docker.sock"};
  engine.hang();
  EXPECT_THROW(docker::list_containers(engine.path().string(), 300ms), docker::engine_error);
  EXPECT_EQ(engine.requests().size(), 1u);
}

TEST(docker_engine_client, a_socket_that_does_not_exist_is_not_reachable_rather_than_an_error) {
  test::temp_directory dir;
  auto path = (dir / "docker.sock").string();
  docker::container_listing l;
  ASSERT_NO_THROW(l = docker::list_containers(path, request_timeout));
  EXPECT_FALSE(l.reachable);
  EXPECT_NE(l.reason.find(path), std::string::npos) << l.reason;
  EXPECT_TRUE(l.containers.empty());
}

TEST(docker_engine_client, a_socket_nobody_listens_on_is_not_reachable) {
  test::temp_directory dir;
  auto path = (dir / "docker.sock").string();
  { // bound, then closed: the file stays, connect() is refused (a stopped dockerd)
    boost::asio::io_context io;
    boost::asio::local::stream_protocol::acceptor acceptor{
        io, boost::asio::local::stream_protocol::endpoint{path}};
  }
  docker::container_listing l;
  ASSERT_NO_THROW(l = docker::list_containers(path, request_timeout));
  EXPECT_FALSE(l.reachable);
  EXPECT_FALSE(l.reason.empty());
}

} // namespace
} // namespace vigil
