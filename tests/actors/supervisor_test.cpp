#include "actors/supervisor.hpp"

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;
using namespace vigil;

namespace {

// Records every start of a named child and the order children stop in.
struct journal {
  std::mutex mtx;
  std::map<std::string, int> starts;
  std::vector<std::string> stops;
  std::vector<std::chrono::steady_clock::time_point> start_times;
};

caf::behavior probe_child(caf::event_based_actor* self, std::string name,
                          std::shared_ptr<journal> j) {
  {
    std::lock_guard lock{j->mtx};
    ++j->starts[name];
    j->start_times.push_back(std::chrono::steady_clock::now());
  }
  self->attach_functor([name, j](const caf::error&) {
    std::lock_guard lock{j->mtx};
    j->stops.push_back(name);
  });
  return {
      [](int x) { return x; },
      [](atom::configure, const settings_ptr&) {},
  };
}

child_spec_ptr probe_spec(const std::string& name, std::shared_ptr<journal> j) {
  return std::make_shared<child_spec>(
      child_spec{name, [name, j](caf::actor_system& sys, const settings_ptr&) {
                   return sys.spawn(probe_child, name, j);
                 }});
}

settings_ptr test_settings(uint32_t max_restarts, bool fault_injection = true) {
  settings s;
  s.fault_injection = fault_injection;
  s.supervision.max_restarts = max_restarts;
  s.supervision.window = 60s;
  s.supervision.backoff_initial = 50ms;
  s.supervision.backoff_max = 400ms;
  return std::make_shared<const settings>(s);
}

struct supervisor_test : ::testing::Test {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<journal> j = std::make_shared<journal>();

  std::vector<child_status> status(const supervisor_actor& sup) {
    caf::scoped_actor self{sys};
    std::vector<child_status> result;
    self->request(sup, 5s, atom::status_v)
        .receive([&](std::vector<child_status>& xs) { result = std::move(xs); },
                 [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
    return result;
  }

  caf::expected<std::string> crash(const supervisor_actor& sup, const std::string& path) {
    caf::scoped_actor self{sys};
    caf::expected<std::string> result{caf::error{}};
    self->request(sup, 5s, atom::crash_v, path)
        .receive([&](std::string& s) { result = std::move(s); },
                 [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  // Polls the status until `pred` holds or 10 s pass (no assumption about speed).
  template <class Pred>
  bool eventually(const supervisor_actor& sup, Pred pred) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred(status(sup)))
        return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  int starts(const std::string& name) {
    std::lock_guard lock{j->mtx};
    return j->starts[name];
  }

  void stop(const supervisor_actor& sup) {
    caf::scoped_actor self{sys};
    self->monitor(sup);
    self->send_exit(sup, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {});
  }
};

TEST_F(supervisor_test, crashed_child_is_restarted_after_backoff_and_sibling_untouched) {
  auto sup = sys.spawn(supervisor, "test", std::vector{probe_spec("a", j), probe_spec("b", j)},
                       test_settings(3));
  auto before = status(sup);
  ASSERT_EQ(before.size(), 2u);
  auto crashed_at = std::chrono::steady_clock::now();
  auto r = crash(sup, "a");
  ASSERT_TRUE(r) << sys.render(r.error());
  EXPECT_EQ(*r, "test/a");
  ASSERT_TRUE(
      eventually(sup, [](auto xs) { return xs[0].restarts == 1 && xs[0].state == "running"; }));
  EXPECT_EQ(starts("a"), 2);
  EXPECT_EQ(starts("b"), 1); // the healthy sibling was not restarted
  auto xs = status(sup);
  EXPECT_EQ(xs[1].restarts, 0u);
  EXPECT_EQ(xs[1].state, "running");
  EXPECT_NE(xs[0].last_error.find("fault injection"), std::string::npos) << xs[0].last_error;
  {
    std::lock_guard lock{j->mtx};
    // the restart waited for the initial backoff (50 ms), it did not happen at once
    EXPECT_GE(j->start_times.back() - crashed_at, 50ms);
  }
  stop(sup);
}

TEST_F(supervisor_test, backoff_grows_exponentially) {
  auto sup = sys.spawn(supervisor, "test", std::vector{probe_spec("a", j)}, test_settings(10));
  std::vector<std::chrono::steady_clock::duration> gaps;
  for (int i = 1; i <= 3; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(crash(sup, "a"));
    ASSERT_TRUE(eventually(sup, [i](auto xs) {
      return xs[0].restarts == static_cast<uint32_t>(i) && xs[0].state == "running";
    }));
    std::lock_guard lock{j->mtx};
    gaps.push_back(j->start_times.back() - t0);
  }
  EXPECT_GE(gaps[0], 50ms);
  EXPECT_GE(gaps[1], 100ms);
  EXPECT_GE(gaps[2], 200ms);
  stop(sup);
}

TEST_F(supervisor_test, gives_up_when_restart_intensity_is_exceeded) {
  auto sup = sys.spawn(supervisor, "test", std::vector{probe_spec("a", j), probe_spec("b", j)},
                       test_settings(2));
  for (uint32_t i = 1; i <= 2; ++i) {
    ASSERT_TRUE(crash(sup, "a"));
    ASSERT_TRUE(
        eventually(sup, [i](auto xs) { return xs[0].restarts == i && xs[0].state == "running"; }));
  }
  ASSERT_TRUE(crash(sup, "a"));
  ASSERT_TRUE(eventually(sup, [](auto xs) { return xs[0].state == "failed"; }));
  std::this_thread::sleep_for(600ms); // longer than any backoff: no further restart happens
  EXPECT_EQ(starts("a"), 3);
  auto xs = status(sup);
  EXPECT_EQ(xs[0].state, "failed");
  EXPECT_EQ(xs[1].state, "running");
  EXPECT_FALSE(crash(sup, "a")); // nothing left to crash
  stop(sup);
}

TEST_F(supervisor_test, fault_injection_is_refused_unless_enabled) {
  auto sup = sys.spawn(supervisor, "test", std::vector{probe_spec("a", j)},
                       test_settings(3, /*fault_injection=*/false));
  auto r = crash(sup, "a");
  ASSERT_FALSE(r);
  EXPECT_NE(sys.render(r.error()).find("--enable-fault-injection"), std::string::npos);
  EXPECT_EQ(starts("a"), 1);
  stop(sup);
}

TEST_F(supervisor_test, nested_supervisors_report_and_route_crashes) {
  auto s = test_settings(3);
  auto inner = std::make_shared<child_spec>(
      child_spec{"area",
                 [j = j](caf::actor_system& sys, const settings_ptr& cur) {
                   return caf::actor_cast<caf::actor>(
                       sys.spawn(supervisor, "area", std::vector{probe_spec("leaf", j)}, cur));
                 },
                 restart_policy::permanent, true});
  auto sup = sys.spawn(supervisor, "root", std::vector<child_spec_ptr>{inner}, s);
  auto xs = status(sup);
  ASSERT_EQ(xs.size(), 1u);
  ASSERT_EQ(xs[0].children.size(), 1u);
  EXPECT_EQ(xs[0].children[0].name, "leaf");
  auto r = crash(sup, "area/leaf");
  ASSERT_TRUE(r) << sys.render(r.error());
  EXPECT_EQ(*r, "area/leaf");
  ASSERT_TRUE(eventually(sup, [](auto xs) {
    return xs[0].children.size() == 1 && xs[0].children[0].restarts == 1 &&
           xs[0].children[0].state == "running";
  }));
  EXPECT_EQ(xs[0].restarts, 0u); // the inner supervisor itself did not restart
  EXPECT_FALSE(crash(sup, "area/nope"));
  stop(sup);
}

TEST_F(supervisor_test, shutdown_stops_children_in_reverse_start_order) {
  auto sup = sys.spawn(
      supervisor, "test",
      std::vector{probe_spec("first", j), probe_spec("second", j), probe_spec("third", j)},
      test_settings(3));
  status(sup); // all started
  stop(sup);
  std::lock_guard lock{j->mtx};
  EXPECT_EQ(j->stops, (std::vector<std::string>{"third", "second", "first"}));
}

TEST_F(supervisor_test, children_added_and_removed_at_run_time) {
  auto sup = sys.spawn(supervisor, "test", std::vector<child_spec_ptr>{}, test_settings(3));
  caf::scoped_actor self{sys};
  caf::actor added;
  self->request(sup, 5s, atom::add_child_v, probe_spec("dyn", j))
      .receive([&](caf::actor& a) { added = a; }, [&](caf::error& e) { FAIL() << sys.render(e); });
  ASSERT_TRUE(added);
  self->request(added, 5s, 41)
      .receive([](int x) { EXPECT_EQ(x, 41); }, [&](caf::error& e) { FAIL() << sys.render(e); });
  ASSERT_EQ(status(sup).size(), 1u);
  self->monitor(added);
  self->send(sup, atom::stop_child_v, std::string{"dyn"});
  self->receive([](const caf::down_msg&) {});
  EXPECT_TRUE(status(sup).empty());
  EXPECT_EQ(starts("dyn"), 1); // stopping on purpose is not a crash: no restart
  stop(sup);
}

} // namespace
