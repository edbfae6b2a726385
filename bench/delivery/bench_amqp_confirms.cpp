// vigil's amqp_connection with publisher confirms and a window of W unconfirmed messages:
// publish (one batch: publish_batch) while fewer than W are unconfirmed, otherwise poll for
// acks. Timed until the last ack.
//   bench_amqp_confirms [messages=20000] [runs=5] [windows=256,1024]
#include "bench/delivery/bench_broker.hpp"
#include "io/amqp/amqp_connection.hpp"

#include <cstdio>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

int main(int argc, char** argv) {
  using namespace vigil;
  using namespace vigil::bench;
  const int messages = argc > 1 ? std::atoi(argv[1]) : 20000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  std::vector<std::uint64_t> windows{256, 1024};
  if (argc > 3) {
    windows.clear();
    std::stringstream list{argv[3]};
    for (std::string item; std::getline(list, item, ',');)
      windows.push_back(std::stoull(item));
  }
  bench_broker broker;
  const std::string queue = "vigil-bench-confirms-" + std::to_string(getpid());
  const std::string body(1024, 'x');
  raw_amqp_client admin(broker.url());

  for (auto window : windows) {
    std::vector<double> rates;
    for (int run = 0; run < runs; ++run) {
      amqp_settings settings;
      settings.url = broker.url();
      settings.queue = queue;
      amqp_connection connection(settings);
      connection.connect();
      admin.purge(queue);

      auto start = std::chrono::steady_clock::now();
      std::uint64_t published = 0;
      std::uint64_t confirmed = 0; // acks are cumulative here: the broker confirms in order
      std::vector<std::string> ids;
      std::vector<amqp_connection::message> batch;
      const auto total = static_cast<std::uint64_t>(messages);
      while (confirmed < total) {
        // Whatever the window allows goes out as one batch, as amqp_publisher sends a fetch.
        ids.clear();
        batch.clear();
        while (published + ids.size() < total && published + ids.size() - confirmed < window)
          ids.push_back("bench-" + std::to_string(published + ids.size()));
        for (auto& id : ids)
          batch.push_back({id, body});
        if (!batch.empty())
          connection.publish_batch(batch);
        published += ids.size();
        for (const auto& e : connection.poll(std::chrono::milliseconds{100})) {
          if (e.type == amqp_event::kind::ack || e.type == amqp_event::kind::nack) {
            if (e.type == amqp_event::kind::nack) {
              std::fprintf(stderr, "nack %llu\n", static_cast<unsigned long long>(e.delivery_tag));
              return 1;
            }
            confirmed = std::max(confirmed, e.delivery_tag);
          } else if (e.type == amqp_event::kind::connection_closed ||
                     e.type == amqp_event::kind::channel_closed) {
            std::fprintf(stderr, "closed: %s\n", e.reply_text.c_str());
            return 1;
          }
        }
      }
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      rates.push_back(messages / seconds);
      std::printf("window %llu run %d: %.0f msgs/s\n", static_cast<unsigned long long>(window),
                  run + 1, rates.back());
    }
    std::printf("bench_amqp_confirms: window %llu, %d x 1 KiB persistent + confirms: median "
                "%.0f msgs/s over %d runs\n",
                static_cast<unsigned long long>(window), messages, median(rates), runs);
  }
  admin.remove(queue);
}
