// Helper for bench/pipeline/run_pipeline_bench.sh — the driver does the orchestration, this
// program does what bash cannot do well:
//
//   bench_pipeline_tool gen FILE LINES RATIO        write LINES lines of 120 bytes, RATIO of them
//                                                   with an error keyword; prints the error count
//   bench_pipeline_tool declare|purge|delete|depth|peek URL QUEUE   (peek: basic.get one message)
//   bench_pipeline_tool wait URL QUEUE N T0_NS TIMEOUT_S PID
//        poll the queue depth (passive queue.declare, every 2 ms) until it holds N messages;
//        then at once read PID's utime+stime. Prints "ok SECONDS CPU_S" where SECONDS counts
//        from T0_NS (CLOCK_REALTIME ns, `date +%s%N` taken just before the process started),
//        or "timeout SECONDS DEPTH CPU_S".
//   bench_pipeline_tool cpu PID                     utime+stime of PID in seconds
//   bench_pipeline_tool write DIR FILES RATE SECONDS RATIO
//        bounded writer: appends RATE lines/s to each of FILES files DIR/f<i>.log for SECONDS
//        (ticks of 10 ms), RATIO of the lines with an error keyword; prints lines written.
//
// The generator is the one of bench/logs/bench_log_scan.cpp (same seed, keywords and near
// misses), so figures are comparable with the scan+classify bench.
#include "bench/bench_log_input.hpp"
#include "bench/raw_amqp_client.hpp"

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <vector>

namespace {

int gen(const char* path, std::uint64_t lines, double ratio) {
  std::printf("%llu\n",
              static_cast<unsigned long long>(vigil::bench::write_log_file(path, lines, ratio)));
  return 0;
}

double cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')'); // comm may hold spaces
  if (close == std::string::npos)
    return -1;
  // fields after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
  // utime(14) stime(15)
  const char* p = stat.c_str() + close + 2;
  unsigned long long utime = 0, stime = 0;
  char state;
  long skip;
  if (std::sscanf(p, "%c %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %llu %llu", &state, &skip, &skip,
                  &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &utime, &stime) != 13)
    return -1;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

using vigil::bench::raw_amqp_client;

// One message (basic.get, auto-ack): its body and the number of headers, to check formats.
void peek(raw_amqp_client& c, const std::string& q) {
  amqp_basic_get(c.handle(), c.channel(), amqp_cstring_bytes(q.c_str()), 1);
  auto reply = amqp_get_rpc_reply(c.handle());
  if (reply.reply_type != AMQP_RESPONSE_NORMAL || reply.reply.id != AMQP_BASIC_GET_OK_METHOD) {
    std::printf("(empty)\n");
    return;
  }
  amqp_message_t message;
  if (amqp_read_message(c.handle(), c.channel(), &message, 0).reply_type != AMQP_RESPONSE_NORMAL)
    throw std::runtime_error("read_message failed");
  int headers = (message.properties._flags & AMQP_BASIC_HEADERS_FLAG)
                    ? message.properties.headers.num_entries
                    : 0;
  std::printf("%d headers, %zu bytes: %.*s\n", headers, message.body.len,
              static_cast<int>(message.body.len), static_cast<const char*>(message.body.bytes));
  amqp_destroy_message(&message);
}

// Queue depth, -1 while the queue does not exist (yet).
long depth_or_missing(raw_amqp_client& c, const std::string& q) {
  auto d = c.depth(q);
  return d ? static_cast<long>(*d) : -1;
}

double now_realtime() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

int wait(const std::string& url, const std::string& q, long n, double t0, double timeout, int pid) {
  raw_amqp_client c(url);
  long d = -1;
  for (;;) {
    d = depth_or_missing(c, q);
    double elapsed = now_realtime() - t0;
    if (d >= n) {
      double cpu = cpu_seconds(pid);
      std::printf("ok %.3f %.2f\n", elapsed, cpu);
      return 0;
    }
    if (elapsed > timeout) {
      std::printf("timeout %.3f %ld %.2f\n", elapsed, d, cpu_seconds(pid));
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
  }
}

int write_files(const std::string& dir, int files, int rate, double seconds, double ratio) {
  std::vector<int> fds;
  for (int i = 0; i < files; ++i) {
    std::string path = dir + "/f" + std::to_string(i) + ".log";
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0)
      throw std::runtime_error("cannot open " + path);
    fds.push_back(fd);
  }
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> coin(0, 1);
  const auto tick = std::chrono::milliseconds{10};
  const auto start = std::chrono::steady_clock::now();
  const long ticks = static_cast<long>(seconds * 100);
  std::uint64_t written = 0, i = 0;
  std::vector<double> debt(files, 0.0); // fractional lines per tick carried over
  std::string chunk;
  for (long t = 0; t < ticks; ++t) {
    for (int f = 0; f < files; ++f) {
      debt[f] += rate / 100.0;
      chunk.clear();
      while (debt[f] >= 1.0) {
        chunk += vigil::bench::make_log_line(i++, coin(rng) < ratio);
        debt[f] -= 1.0;
      }
      if (!chunk.empty() && ::write(fds[f], chunk.data(), chunk.size()) < 0)
        throw std::runtime_error("write failed");
      written += chunk.size() / vigil::bench::log_line_bytes;
    }
    std::this_thread::sleep_until(start + (t + 1) * tick);
  }
  for (int fd : fds)
    ::close(fd);
  std::printf("%llu\n", static_cast<unsigned long long>(written));
  return 0;
}

} // namespace

int main(int argc, char** argv) try {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "gen" && argc == 5)
    return gen(argv[2], std::strtoull(argv[3], nullptr, 10), std::atof(argv[4]));
  if (cmd == "cpu" && argc == 3) {
    std::printf("%.2f\n", cpu_seconds(std::atoi(argv[2])));
    return 0;
  }
  if ((cmd == "declare" || cmd == "purge" || cmd == "delete" || cmd == "depth" || cmd == "peek") &&
      argc == 4) {
    raw_amqp_client c(argv[2]);
    if (cmd == "declare")
      c.declare(argv[3]);
    else if (cmd == "purge")
      c.purge(argv[3]);
    else if (cmd == "delete")
      c.remove(argv[3]);
    else if (cmd == "peek")
      peek(c, argv[3]);
    else
      std::printf("%ld\n", depth_or_missing(c, argv[3]));
    return 0;
  }
  if (cmd == "wait" && argc == 8)
    return wait(argv[2], argv[3], std::atol(argv[4]), std::atof(argv[5]) * 1e-9, std::atof(argv[6]),
                std::atoi(argv[7]));
  if (cmd == "write" && argc == 7)
    return write_files(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), std::atof(argv[5]),
                       std::atof(argv[6]));
  std::fprintf(stderr, "usage: see the header of bench/pipeline/bench_pipeline_tool.cpp\n");
  return 2;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_pipeline_tool: %s\n", e.what());
  return 1;
}
