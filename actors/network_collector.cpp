#include "actors/network_collector.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <utility>

namespace vigil {

namespace {

tcp_connection_counts to_counts(const proc::tcp_state_counts& c) {
  using proc::tcp_state;
  tcp_connection_counts out;
  out.total = c.total;
  out.established = c.count(tcp_state::established);
  out.listen = c.count(tcp_state::listen);
  out.time_wait = c.count(tcp_state::time_wait);
  out.close_wait = c.count(tcp_state::close_wait);
  out.syn_sent = c.count(tcp_state::syn_sent);
  out.syn_recv = c.count(tcp_state::syn_recv) + c.count(tcp_state::new_syn_recv);
  auto named =
      out.established + out.listen + out.time_wait + out.close_wait + out.syn_sent + out.syn_recv;
  out.other = c.total > named ? c.total - named : 0;
  return out;
}

} // namespace

network_sampler::network_sampler(const collector_options& options, const settings&)
    : reader_(options.root)
    , tcp_(options.root) {}

network_section_ptr network_sampler::sample(wall_time now,
                                            std::chrono::steady_clock::time_point t) {
  reader_.read(readings_.current);
  if (readings_.is_baseline()) {
    readings_.advance(t);
    return nullptr;
  }
  const auto& current = readings_.current;
  auto rates =
      proc::compute_network_rates(readings_.previous, current, readings_.since_previous(t));
  auto out = std::make_shared<network_section>();
  out->sampled_at = now;
  out->interfaces.reserve(rates.interfaces.size());
  // The rates list a subset of current's interfaces in its order: one walk finds the counters.
  auto counters = current.interfaces.begin();
  for (auto& r : rates.interfaces) {
    interface_traffic x{r.name,
                        r.rx_bytes_per_second,
                        r.tx_bytes_per_second,
                        r.rx_packets_per_second,
                        r.tx_packets_per_second,
                        r.rx_errors_per_second,
                        r.tx_errors_per_second,
                        r.rx_dropped_per_second,
                        r.tx_dropped_per_second,
                        0,
                        0};
    auto it = std::find_if(counters, current.interfaces.end(),
                           [&](const proc::interface_counters& c) { return c.name == r.name; });
    if (it != current.interfaces.end()) {
      x.rx_bytes = it->rx_bytes;
      x.tx_bytes = it->tx_bytes;
      counters = std::next(it);
    }
    out->interfaces.push_back(std::move(x));
  }
  for (auto& c : current.interfaces)
    if (c.name != "lo") {
      out->rx_bytes += c.rx_bytes;
      out->tx_bytes += c.tx_bytes;
    }
  out->rx_bytes_per_second = rates.rx_bytes_per_second;
  out->tx_bytes_per_second = rates.tx_bytes_per_second;
  if (!tcp_at_ || t - *tcp_at_ >= tcp_refresh_interval) {
    tcp_at_ = t;
    try {
      tcp_counts_ = to_counts(tcp_.read());
    } catch (const std::exception&) {
      // No /proc/net/tcp (network namespace without it): traffic alone is still worth sending.
      tcp_counts_.reset();
    }
  }
  out->tcp = tcp_counts_;
  readings_.advance(t);
  return out;
}

telemetry_collector_actor spawn_network_collector(caf::actor_system& sys, collector_options options,
                                                  settings_ptr current) {
  return sys.spawn(telemetry_collector<network_sampler>, std::move(options), std::move(current));
}

} // namespace vigil
