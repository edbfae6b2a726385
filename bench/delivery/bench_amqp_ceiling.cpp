// The broker's ceiling: a bare rabbitmq-c publisher, one connection, persistent ~1 KB messages,
// no confirms. Timed until the queue holds every message (a passive declare reports the count),
// so it measures what the broker accepted, not what the socket buffered.
//   bench_amqp_ceiling [messages=20000] [runs=5]
#include "bench/delivery/bench_broker.hpp"

#include <cstdio>
#include <thread>
#include <unistd.h>

int main(int argc, char** argv) {
  using namespace vigil::bench;
  const int messages = argc > 1 ? std::atoi(argv[1]) : 20000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  bench_broker broker;
  const std::string queue = "vigil-bench-ceiling-" + std::to_string(getpid());
  const std::string body(1024, 'x');

  raw_amqp_client admin(broker.url());
  admin.declare(queue);
  std::vector<double> rates;
  for (int run = 0; run < runs; ++run) {
    admin.purge(queue);
    raw_amqp_client publisher(broker.url());
    amqp_basic_properties_t props{};
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
    props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    props.content_type = amqp_cstring_bytes("application/json");
    amqp_bytes_t payload{body.size(), const_cast<char*>(body.data())};

    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < messages; ++i)
      if (amqp_basic_publish(publisher.handle(), 1, amqp_empty_bytes,
                             amqp_cstring_bytes(queue.c_str()), 0, 0, &props,
                             payload) != AMQP_STATUS_OK) {
        std::fprintf(stderr, "publish failed\n");
        return 1;
      }
    while (admin.depth(queue).value_or(0) < static_cast<std::uint32_t>(messages))
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rates.push_back(messages / seconds);
    std::printf("run %d: %.0f msgs/s\n", run + 1, rates.back());
  }
  admin.remove(queue);
  std::printf("bench_amqp_ceiling: %d x 1 KiB persistent, no confirms: median %.0f msgs/s over "
              "%d runs\n",
              messages, median(rates), runs);
}
