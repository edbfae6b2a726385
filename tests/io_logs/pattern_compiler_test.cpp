// The child's side of pattern compilation (`vigil compile-patterns`), driven through streams;
// tests/runtime/pattern_compiler_child_test.cpp runs the real binary as the child.

#include "io/logs/pattern_compiler.hpp"

#include <gtest/gtest.h>
#include <hs/hs.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace vigil {
namespace {

int matches(hs_database* database, const std::string& text) {
  hs_scratch_t* scratch = nullptr;
  EXPECT_EQ(hs_alloc_scratch(database, &scratch), HS_SUCCESS);
  int count = 0;
  hs_scan(
      database, text.data(), static_cast<unsigned>(text.size()), 0, scratch,
      [](unsigned, unsigned long long, unsigned long long, unsigned, void* context) {
        ++*static_cast<int*>(context);
        return 0;
      },
      &count);
  hs_free_scratch(scratch);
  return count;
}

TEST(pattern_compiler_test, writes_a_serialized_database_that_matches) {
  std::istringstream in{R"([{"expression": "err(or)?", "flags": 9, "id": 0},
                            {"expression": "panic", "flags": 8, "id": 1}])"};
  std::ostringstream out;
  ASSERT_EQ(run_pattern_compiler(in, out), 0);
  auto bytes = out.str();
  hs_database* database = nullptr;
  ASSERT_EQ(hs_deserialize_database(bytes.data(), bytes.size(), &database), HS_SUCCESS);
  hs_database_ptr owned{database};
  EXPECT_EQ(matches(database, "ERROR then panic"),
            2); // caseless (flags: 1 caseless, 8 single match)
  EXPECT_EQ(matches(database, "PANIC only"), 0);
}

TEST(pattern_compiler_test, a_refused_pattern_is_reported_with_its_index) {
  std::istringstream in{R"([{"expression": "fine", "flags": 0, "id": 0},
                            {"expression": "(unclosed", "flags": 0, "id": 1}])"};
  std::ostringstream out;
  ASSERT_EQ(run_pattern_compiler(in, out), 3);
  auto refusal = nlohmann::json::parse(out.str());
  EXPECT_EQ(refusal["index"], 1);
  EXPECT_NE(refusal["message"].get<std::string>().find("parenthesis"), std::string::npos)
      << refusal.dump();
}

TEST(pattern_compiler_test, malformed_input_fails_without_output) {
  for (auto text : {"not json", R"({"expression": "x"})", R"([{"expression": 5}])"}) {
    std::istringstream in{text};
    std::ostringstream out;
    EXPECT_EQ(run_pattern_compiler(in, out), 1) << text;
    EXPECT_TRUE(out.str().empty()) << text;
  }
}

TEST(pattern_compiler_test, compiles_in_process_by_default) {
  std::vector<hyperscan_pattern> patterns{{"fatal", HS_FLAG_CASELESS, 7}};
  auto database = compile_patterns(patterns);
  EXPECT_EQ(matches(database.get(), "FATAL: x"), 1);
  patterns.push_back({"[z-a]", 0, 8});
  try {
    compile_patterns(patterns);
    FAIL() << "a bad range compiled";
  } catch (const pattern_compile_error& e) {
    EXPECT_EQ(e.index(), 1);
  }
}

} // namespace
} // namespace vigil
