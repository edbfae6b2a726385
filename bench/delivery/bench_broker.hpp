#pragma once

#include "bench/raw_amqp_client.hpp"
#include "tests/support/private_broker.hpp"

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::bench {

// The broker under test: VIGIL_TEST_AMQP_URL, else a private one for the program's lifetime.
class bench_broker {
public:
  bench_broker() {
    if (const char* url = std::getenv("VIGIL_TEST_AMQP_URL"); url != nullptr && *url != '\0') {
      url_ = url;
    } else {
      broker_ = std::make_unique<test::private_broker>();
      url_ = broker_->url();
    }
  }
  const std::string& url() const { return url_; }

private:
  std::unique_ptr<test::private_broker> broker_;
  std::string url_;
};

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  auto n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

} // namespace vigil::bench
