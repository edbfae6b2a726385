#include "actors/network_collector.hpp"

#include <caf/all.hpp>

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
  reader_.read(current_);
  if (!previous_at_) {
    std::swap(previous_, current_);
    previous_at_ = t;
    return nullptr;
  }
  auto rates = proc::compute_network_rates(previous_, current_,
                                           std::chrono::duration<double>(t - *previous_at_));
  auto out = std::make_shared<network_section>();
  out->sampled_at = now;
  out->interfaces.reserve(rates.interfaces.size());
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
    for (auto& c : current_.interfaces)
      if (c.name == r.name) {
        x.rx_bytes = c.rx_bytes;
        x.tx_bytes = c.tx_bytes;
        break;
      }
    out->interfaces.push_back(std::move(x));
  }
  for (auto& c : current_.interfaces)
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
  std::swap(previous_, current_);
  previous_at_ = t;
  return out;
}

telemetry_collector_actor spawn_network_collector(caf::actor_system& sys, collector_options options,
                                                  settings_ptr current) {
  return sys.spawn(telemetry_collector<network_sampler>, std::move(options), std::move(current));
}

} // namespace vigil
