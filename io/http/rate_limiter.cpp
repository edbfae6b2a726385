#include "io/http/rate_limiter.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>

namespace vigil {

rate_limiter::rate_limiter(std::uint32_t per_minute, std::size_t max_addresses,
                           std::function<clock::time_point()> now)
    : per_minute_(per_minute)
    , token_interval_(per_minute == 0 ? clock::duration::zero()
                                      : clock::duration{std::chrono::minutes{1}} / per_minute)
    , max_addresses_(max_addresses)
    , now_(std::move(now)) {
  if (max_addresses_ == 0)
    throw std::invalid_argument("rate_limiter: max_addresses must be at least 1");
  if (per_minute_ != 0)
    index_.reserve(max_addresses_); // no rehashing, ever
}

rate_limiter::decision rate_limiter::admit(const boost::asio::ip::address& client) {
  if (per_minute_ == 0)
    return {};
  auto key = canonical_bytes(client);
  auto now = now_();
  std::lock_guard lock{mutex_};
  auto found = index_.find(key);
  if (found == index_.end()) {
    if (buckets_.size() < max_addresses_) {
      buckets_.push_front({});
    } else { // the least recently seen bucket's node is reused for the newcomer
      index_.erase(buckets_.back().client);
      buckets_.splice(buckets_.begin(), buckets_, std::prev(buckets_.end()));
    }
    buckets_.front() = {key, now + token_interval_};
    index_.emplace(key, buckets_.begin());
    return {};
  }
  auto& entry = *found->second;
  buckets_.splice(buckets_.begin(), buckets_, found->second);
  // Tokens left = per_minute - (full_at - now) / token_interval: one is left while the bucket
  // is full again within (per_minute - 1) intervals.
  auto full_at = std::max(entry.full_at, now);
  auto over = full_at - now - (per_minute_ - 1) * token_interval_;
  if (over > clock::duration::zero())
    return {false,
            std::max(std::chrono::seconds{1}, std::chrono::ceil<std::chrono::seconds>(over))};
  entry.full_at = full_at + token_interval_;
  return {};
}

std::size_t rate_limiter::tracked_addresses() const {
  std::lock_guard lock{mutex_};
  return buckets_.size();
}

} // namespace vigil
