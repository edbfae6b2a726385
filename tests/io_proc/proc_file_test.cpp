#include "io/proc/proc_file.hpp"
#include "tests/io_proc/proc_fixture.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <string>
#include <system_error>
#include <unistd.h>

namespace vigil::proc {
namespace {

TEST(proc_file, path_under_joins_root_and_relative_path) {
  EXPECT_EQ(path_under("/", "proc/stat"), "/proc/stat");
  EXPECT_EQ(path_under("/", "/proc/stat"), "/proc/stat");
  EXPECT_EQ(path_under("/tmp/fx", "proc/stat"), "/tmp/fx/proc/stat");
  EXPECT_EQ(path_under("/tmp/fx/", "/mnt/data"), "/tmp/fx/mnt/data");
}

TEST(proc_file, reads_a_file_larger_than_the_buffer_whole_and_keeps_the_grown_buffer) {
  test::proc_fixture fx;
  std::string content;
  for (int i = 0; content.size() < 100'000; ++i)
    content += "line " + std::to_string(i) + "\n";
  fx.write("big", content);
  proc_file_reader reader{64};
  EXPECT_EQ(reader.read((fx.root() / "big").string()), content);
  EXPECT_GE(reader.capacity(), content.size());
  fx.write("small", "abc");
  EXPECT_EQ(reader.read((fx.root() / "small").string()), "abc");
}

TEST(proc_file, reread_reads_an_open_file_again_from_the_start) {
  test::proc_fixture fx;
  fx.write("f", "first");
  int fd = ::open((fx.root() / "f").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  proc_file_reader reader{64};
  std::string_view text;
  ASSERT_EQ(reader.reread(fd, text), 0);
  EXPECT_EQ(text, "first");
  std::string big(1000, 'x'); // larger than the buffer: it grows
  fx.write("f", big);
  ASSERT_EQ(reader.reread(fd, text), 0);
  EXPECT_EQ(text, big);
  ::close(fd);

  fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(reader.reread(fd, text), 0);
    EXPECT_EQ(text.substr(0, std::to_string(::getpid()).size() + 2),
              std::to_string(::getpid()) + " (");
    EXPECT_EQ(text.back(), '\n'); // whole line each time
  }
  ::close(fd);
  EXPECT_EQ(reader.reread(-1, text), EBADF);
}

TEST(proc_file, missing_file_throws_naming_it_or_is_nullopt_when_allowed) {
  test::proc_fixture fx;
  proc_file_reader reader;
  auto path = (fx.root() / "proc/nothing").string();
  try {
    reader.read(path);
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_EQ(e.code().value(), ENOENT);
  }
  EXPECT_EQ(reader.read_if_exists(path), std::nullopt);
  fx.write("proc/something", "x");
  EXPECT_EQ(reader.read_if_exists((fx.root() / "proc/something").string()), "x");
}

TEST(proc_file, read_at_stops_at_max_bytes_and_reports_truncation) {
  test::proc_fixture fx;
  fx.write("f", "0123456789");
  proc_file_reader reader;
  std::string_view out;
  bool truncated = false;
  auto file = (fx.root() / "f").string();
  ASSERT_EQ(reader.read_at(AT_FDCWD, file.c_str(), out, 4, &truncated), 0);
  EXPECT_EQ(out, "0123");
  EXPECT_TRUE(truncated);
  ASSERT_EQ(reader.read_at(AT_FDCWD, file.c_str(), out, 10, &truncated), 0);
  EXPECT_EQ(out, "0123456789");
  EXPECT_FALSE(truncated);
  EXPECT_EQ(reader.read_at(AT_FDCWD, (file + "x").c_str(), out), ENOENT);
}

TEST(proc_file, reads_real_proc_files_that_report_size_zero) {
  proc_file_reader reader{16};
  auto text = reader.read("/proc/self/status");
  EXPECT_NE(text.find("Pid:"), std::string_view::npos);
  EXPECT_GT(text.size(), 16u);
}

} // namespace
} // namespace vigil::proc
