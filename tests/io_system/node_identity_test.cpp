#include "io/system/host_info.hpp"
#include "io/system/node_identity.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>

using namespace vigil;
namespace fs = std::filesystem;

namespace {

struct node_identity_test : ::testing::Test {
  fs::path dir;
  node_identity_test() {
    char tmpl[] = "/tmp/vigil-id-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~node_identity_test() override { fs::remove_all(dir); }
  std::string machine_id(const std::string& text) {
    auto p = dir / "machine-id";
    std::ofstream{p} << text;
    return p.string();
  }
  std::string state(const std::string& name) {
    auto p = dir / name;
    fs::create_directories(p);
    return p.string();
  }
};

TEST_F(node_identity_test, persists_across_restarts) {
  auto s = state("s");
  auto first = load_or_create_node_id(s, (dir / "none").string());
  ASSERT_TRUE(is_uuid(first)) << first;
  EXPECT_EQ(load_or_create_node_id(s, (dir / "none").string()), first);
  std::ifstream in{s + "/node_id"};
  std::string stored;
  std::getline(in, stored);
  EXPECT_EQ(stored, first);
}

TEST_F(node_identity_test, derived_from_machine_id_without_disclosing_it) {
  auto mid = machine_id("0123456789abcdef0123456789abcdef\n");
  auto a = load_or_create_node_id(state("a"), mid);
  auto b = load_or_create_node_id(state("b"), mid);
  EXPECT_EQ(a, b); // same machine, same id, even with a fresh state dir
  // HMAC-SHA256(key: the machine id's hex, message: "vigil-node-id-v1"), first 16 bytes as a
  // v4 UUID: pinned, so a machine keeps its id across vigil versions.
  EXPECT_EQ(a, "1eeb7a2e-b958-4576-b11d-45f0f618177a");
  EXPECT_EQ(a.find("0123456789abcdef"), std::string::npos);
  auto other = load_or_create_node_id(state("c"), machine_id("fedcba9876543210fedcba9876543210"));
  EXPECT_NE(a, other);
  EXPECT_EQ(a[14], '4'); // version nibble
}

TEST_F(node_identity_test, random_without_machine_id_and_never_an_ip) {
  auto a = load_or_create_node_id(state("a"), (dir / "none").string());
  auto b = load_or_create_node_id(state("b"), (dir / "none").string());
  EXPECT_NE(a, b);
  for (auto& ip : read_host_info().ips)
    EXPECT_EQ(a.find(ip), std::string::npos);
  EXPECT_NE(a, read_host_info().primary_ip);
}

TEST_F(node_identity_test, damaged_file_is_replaced) {
  auto s = state("s");
  std::ofstream{s + "/node_id"} << "not-a-uuid\n";
  auto id = load_or_create_node_id(s, (dir / "none").string());
  EXPECT_TRUE(is_uuid(id));
}

TEST_F(node_identity_test, unwritable_state_dir_names_the_file) {
  try {
    load_or_create_node_id((dir / "missing" / "deeper").string(), (dir / "none").string());
    FAIL() << "expected an error";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string{e.what()}.find("missing/deeper/node_id"), std::string::npos) << e.what();
  }
}

} // namespace
