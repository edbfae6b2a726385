#include "io/logs/inotify_watcher.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace vigil {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const watch_event* find(const std::vector<watch_event>& events, std::uint32_t bits,
                        const std::string& name) {
  auto it = std::find_if(events.begin(), events.end(),
                         [&](const auto& e) { return e.has(bits) && e.name == name; });
  return it == events.end() ? nullptr : &*it;
}

TEST(inotify_watcher_test, reports_create_modify_rename_delete) {
  test::temp_directory dir;
  inotify_watcher watcher;
  int watch = watcher.add(dir.path());
  EXPECT_EQ(watcher.watch_count(), 1u);
  EXPECT_TRUE(watcher.read_events().empty()); // non-blocking, nothing yet
  EXPECT_FALSE(watcher.wait(0ms));

  test::append_file(dir / "app.log", "x\n");
  ASSERT_TRUE(watcher.wait(1000ms));
  auto events = watcher.read_events();
  auto* created = find(events, IN_CREATE, "app.log");
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->watch, watch);
  EXPECT_EQ(created->path(), dir / "app.log");
  EXPECT_NE(find(events, IN_MODIFY, "app.log"), nullptr);

  fs::rename(dir / "app.log", dir / "app.log.1");
  events = watcher.read_events();
  auto* from = find(events, IN_MOVED_FROM, "app.log");
  auto* to = find(events, IN_MOVED_TO, "app.log.1");
  ASSERT_NE(from, nullptr);
  ASSERT_NE(to, nullptr);
  EXPECT_EQ(from->cookie, to->cookie);

  fs::remove(dir / "app.log.1");
  EXPECT_NE(find(watcher.read_events(), IN_DELETE, "app.log.1"), nullptr);
}

TEST(inotify_watcher_test, a_removed_directory_drops_its_watch) {
  test::temp_directory dir;
  fs::create_directory(dir / "sub");
  inotify_watcher watcher;
  watcher.add(dir / "sub");
  fs::remove(dir / "sub");
  auto events = watcher.read_events();
  EXPECT_TRUE(std::any_of(events.begin(), events.end(),
                          [](const auto& e) { return e.has(IN_DELETE_SELF); }));
  EXPECT_TRUE(
      std::any_of(events.begin(), events.end(), [](const auto& e) { return e.has(IN_IGNORED); }));
  EXPECT_EQ(watcher.watch_count(), 0u);
}

TEST(inotify_watcher_test, removed_watch_reports_nothing_more) {
  test::temp_directory dir;
  inotify_watcher watcher;
  int watch = watcher.add(dir.path());
  watcher.remove(watch);
  test::append_file(dir / "a.log", "x\n");
  auto events = watcher.read_events();
  EXPECT_TRUE(
      std::none_of(events.begin(), events.end(), [](const auto& e) { return e.has(IN_CREATE); }));
}

TEST(inotify_watcher_test, a_missing_directory_is_named_in_the_error) {
  test::temp_directory dir;
  inotify_watcher watcher;
  try {
    watcher.add(dir / "missing");
    FAIL() << "expected std::system_error";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos);
  }
}

TEST(inotify_watcher_test, moved_watcher_keeps_its_descriptor) {
  test::temp_directory dir;
  inotify_watcher first;
  first.add(dir.path());
  int fd = first.fd();
  inotify_watcher second(std::move(first));
  EXPECT_EQ(second.fd(), fd);
  test::append_file(dir / "b.log", "x\n");
  EXPECT_NE(find(second.read_events(), IN_CREATE, "b.log"), nullptr);
}

} // namespace
} // namespace vigil
