#include "io/proc/network_stats.hpp"

#include "io/proc/counter_delta.hpp"
#include "io/proc/text_scan.hpp"

#include <optional>
#include <stdexcept>

namespace vigil::proc {

using namespace detail;

void parse_network_stats(std::string_view text, network_sample& out, std::string_view origin) {
  std::size_t count = 0;
  while (!text.empty()) {
    auto line = next_line(text);
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue; // the two header lines have '|', not ':'
    auto name = trim(line.substr(0, colon));
    auto rest = line.substr(colon + 1); // old kernels glue the first number to the colon
    std::uint64_t f[16];
    for (auto& v : f)
      if (!next_integer(rest, v))
        throw std::runtime_error(std::string(origin) + ": malformed line for interface '" +
                                 std::string(name) + "'");
    if (count == out.interfaces.size())
      out.interfaces.emplace_back();
    auto& i = out.interfaces[count++];
    i.name.assign(name);
    i.rx_bytes = f[0];
    i.rx_packets = f[1];
    i.rx_errors = f[2];
    i.rx_dropped = f[3];
    i.tx_bytes = f[8];
    i.tx_packets = f[9];
    i.tx_errors = f[10];
    i.tx_dropped = f[11];
  }
  out.interfaces.resize(count);
}

network_stats_reader::network_stats_reader(const std::filesystem::path& root)
    : path_(path_under(root, "proc/net/dev")) {}

void network_stats_reader::read(network_sample& out) {
  parse_network_stats(file_.read(path_), out, path_);
}

network_sample network_stats_reader::read() {
  network_sample sample;
  read(sample);
  return sample;
}

network_rates compute_network_rates(const network_sample& previous, const network_sample& current,
                                    std::chrono::duration<double> elapsed) {
  network_rates rates;
  double seconds = elapsed.count();
  if (seconds <= 0)
    return rates;
  std::size_t hint = 0;
  for (const auto& cur : current.interfaces) {
    const interface_counters* prev = nullptr;
    if (hint < previous.interfaces.size() && previous.interfaces[hint].name == cur.name) {
      prev = &previous.interfaces[hint];
    } else {
      for (std::size_t i = 0; i < previous.interfaces.size(); ++i)
        if (previous.interfaces[i].name == cur.name) {
          prev = &previous.interfaces[i];
          hint = i;
          break;
        }
    }
    if (!prev)
      continue;
    ++hint;
    std::optional<std::uint64_t> d[] = {counter_delta(prev->rx_bytes, cur.rx_bytes),
                                        counter_delta(prev->tx_bytes, cur.tx_bytes),
                                        counter_delta(prev->rx_packets, cur.rx_packets),
                                        counter_delta(prev->tx_packets, cur.tx_packets),
                                        counter_delta(prev->rx_errors, cur.rx_errors),
                                        counter_delta(prev->tx_errors, cur.tx_errors),
                                        counter_delta(prev->rx_dropped, cur.rx_dropped),
                                        counter_delta(prev->tx_dropped, cur.tx_dropped)};
    bool reset = false;
    for (auto& v : d)
      reset = reset || !v;
    if (reset)
      continue;
    auto per_second = [&](const std::optional<std::uint64_t>& v) {
      return static_cast<double>(*v) / seconds;
    };
    interface_rates r;
    r.name = cur.name;
    r.rx_bytes_per_second = per_second(d[0]);
    r.tx_bytes_per_second = per_second(d[1]);
    r.rx_packets_per_second = per_second(d[2]);
    r.tx_packets_per_second = per_second(d[3]);
    r.rx_errors_per_second = per_second(d[4]);
    r.tx_errors_per_second = per_second(d[5]);
    r.rx_dropped_per_second = per_second(d[6]);
    r.tx_dropped_per_second = per_second(d[7]);
    if (cur.name != "lo") {
      rates.rx_bytes_per_second += r.rx_bytes_per_second;
      rates.tx_bytes_per_second += r.tx_bytes_per_second;
    }
    rates.interfaces.push_back(std::move(r));
  }
  rates.total_bytes_per_second = rates.rx_bytes_per_second + rates.tx_bytes_per_second;
  return rates;
}

} // namespace vigil::proc
