#pragma once

#include "io/http/address_filter.hpp"

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace vigil {

// Requests per client address: a token bucket per address holding up to `per_minute` tokens,
// refilled continuously at per_minute/60 tokens a second; a request takes one token. Each bucket
// is kept as the time it will be full again (the GCRA form of a token bucket), which is exact
// in clock ticks where counting fractional tokens in floating point is not.
//
// Memory is bounded whatever the number of clients: at most `max_addresses` buckets are kept.
// A new address beyond that evicts the least recently seen one, whose bucket has had the longest
// to refill, so forgetting it costs the least (a forgotten address starts again with a full
// bucket). Thread-safe behind one mutex; a known address costs a hash lookup, no allocation.
class rate_limiter {
public:
  using clock = std::chrono::steady_clock;
  static constexpr std::size_t default_max_addresses = 4096;

  struct decision {
    bool admitted = true;
    std::chrono::seconds retry_after{0}; // when refused: until a token is back, >= 1 s
  };

  // per_minute 0 admits everything and keeps nothing. `now` is for tests.
  explicit rate_limiter(std::uint32_t per_minute, std::size_t max_addresses = default_max_addresses,
                        std::function<clock::time_point()> now = &clock::now);

  decision admit(const boost::asio::ip::address& client);

  std::uint32_t per_minute() const { return per_minute_; }
  std::size_t tracked_addresses() const;

private:
  struct bucket {
    ip_address_bytes client;
    clock::time_point full_at; // each request taken moves it one token_interval_ later
  };
  struct bytes_hash {
    std::size_t operator()(const ip_address_bytes& bytes) const {
      return std::hash<std::string_view>{}(
          {reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    }
  };
  using recency_list = std::list<bucket>; // most recently seen first

  const std::uint32_t per_minute_;
  const clock::duration token_interval_; // 60 s / per_minute
  const std::size_t max_addresses_;
  const std::function<clock::time_point()> now_;
  mutable std::mutex mutex_;
  recency_list buckets_;
  std::unordered_map<ip_address_bytes, recency_list::iterator, bytes_hash> index_;
};

} // namespace vigil
