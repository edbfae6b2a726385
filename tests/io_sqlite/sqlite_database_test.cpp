#include "io/sqlite/sqlite_database.hpp"
#include "io/sqlite/state_schema.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <thread>

namespace vigil {
namespace {

std::int64_t count_rows(sqlite_database& db, const std::string& table) {
  sqlite_statement stmt(db, "SELECT count(*) FROM " + table);
  stmt.step();
  return stmt.column_int64(0);
}

TEST(sqlite_database, opens_in_wal_mode_with_the_chosen_synchronous_level) {
  test::temp_directory dir;
  for (auto [sync, expected] : {std::pair{sqlite_sync::full, 2}, {sqlite_sync::normal, 1}}) {
    sqlite_database db(dir / "state.db", {.synchronous = sync});
    sqlite_statement mode(db, "PRAGMA journal_mode");
    ASSERT_TRUE(mode.step());
    EXPECT_EQ(mode.column_text(0), "wal");
    sqlite_statement level(db, "PRAGMA synchronous");
    ASSERT_TRUE(level.step());
    EXPECT_EQ(level.column_int64(0), expected);
  }
}

TEST(sqlite_database, two_connections_opening_a_new_file_at_once_both_get_wal) {
  // SQLite answers the second switch to WAL with BUSY without calling its busy handler.
  test::temp_directory dir;
  int failures = 0;
  for (int round = 0; round < 100; ++round) {
    auto path = dir / ("race-" + std::to_string(round) + ".db");
    std::atomic<int> errors{0};
    auto open = [&] {
      try {
        sqlite_database db(path);
      } catch (const sqlite_error&) {
        ++errors;
      }
    };
    std::thread a{open}, b{open};
    a.join();
    b.join();
    failures += errors;
  }
  EXPECT_EQ(failures, 0);
}

TEST(sqlite_database, missing_parent_directory_is_a_clear_error_naming_the_path) {
  test::temp_directory dir;
  auto path = dir / "no-such-dir" / "state.db";
  try {
    sqlite_database db(path);
    FAIL() << "expected an error";
  } catch (const sqlite_error& e) {
    EXPECT_NE(std::string{e.what()}.find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string{e.what()}.find("does not exist"), std::string::npos) << e.what();
    EXPECT_EQ(e.path(), path);
  }
}

TEST(sqlite_database, errors_carry_the_sqlite_message_and_the_path) {
  test::temp_directory dir;
  sqlite_database db(dir / "state.db");
  try {
    db.execute("SELECT * FROM no_such_table");
    FAIL() << "expected an error";
  } catch (const sqlite_error& e) {
    std::string text = e.what();
    EXPECT_NE(text.find("no such table"), std::string::npos) << text;
    EXPECT_NE(text.find((dir / "state.db").string()), std::string::npos) << text;
    EXPECT_EQ(e.code(), SQLITE_ERROR);
  }
}

TEST(sqlite_database, statements_bind_step_and_read_columns) {
  test::temp_directory dir;
  sqlite_database db(dir / "state.db");
  db.execute("CREATE TABLE t(i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)");
  std::string blob{"a\0b", 3};
  {
    auto insert = db.cached("INSERT INTO t VALUES(?1, ?2, ?3, ?4, ?5)");
    insert->bind(1, std::int64_t{-7}).bind(2, 2.5).bind(3, "text").bind_blob(4, blob);
    insert->bind(5, std::optional<std::string>{});
    insert->run();
  }
  auto select = db.cached("SELECT i, d, s, b, n FROM t");
  ASSERT_TRUE(select->step());
  EXPECT_EQ(select->column_int64(0), -7);
  EXPECT_DOUBLE_EQ(select->column_double(1), 2.5);
  EXPECT_EQ(select->column_text(2), "text");
  EXPECT_EQ(select->column_text(3), blob);
  EXPECT_TRUE(select->column_is_null(4));
  EXPECT_FALSE(select->step());
}

TEST(sqlite_database, cached_statements_are_reused_and_reset) {
  test::temp_directory dir;
  sqlite_database db(dir / "state.db");
  db.execute("CREATE TABLE t(i INTEGER)");
  sqlite3_stmt* first = nullptr;
  for (std::int64_t i = 0; i < 3; ++i) {
    auto insert = db.cached("INSERT INTO t VALUES(?1)");
    if (first == nullptr)
      first = insert->handle();
    EXPECT_EQ(insert->handle(), first);
    insert->bind(1, i).run();
  }
  EXPECT_EQ(count_rows(db, "t"), 3);
}

TEST(sqlite_database, transaction_rolls_back_on_exception_and_commits_on_commit) {
  test::temp_directory dir;
  sqlite_database db(dir / "state.db");
  db.execute("CREATE TABLE t(i INTEGER)");
  EXPECT_THROW(
      {
        sqlite_transaction tx(db);
        db.execute("INSERT INTO t VALUES(1)");
        throw std::runtime_error("between the writes");
      },
      std::runtime_error);
  EXPECT_FALSE(db.in_transaction());
  EXPECT_EQ(count_rows(db, "t"), 0);

  {
    sqlite_transaction tx(db);
    db.execute("INSERT INTO t VALUES(1)");
    tx.commit();
  }
  EXPECT_EQ(count_rows(db, "t"), 1);
}

TEST(sqlite_database, nested_transaction_undoes_only_its_own_part) {
  test::temp_directory dir;
  sqlite_database db(dir / "state.db");
  db.execute("CREATE TABLE t(i INTEGER)");
  {
    sqlite_transaction outer(db);
    db.execute("INSERT INTO t VALUES(1)");
    {
      sqlite_transaction inner(db);
      db.execute("INSERT INTO t VALUES(2)");
    } // rolled back
    {
      sqlite_transaction inner(db);
      db.execute("INSERT INTO t VALUES(3)");
      inner.commit();
    }
    outer.commit();
  }
  sqlite_statement sum(db, "SELECT sum(i) FROM t");
  sum.step();
  EXPECT_EQ(sum.column_int64(0), 4);
}

TEST(sqlite_database, migrations_apply_once_in_order_and_are_idempotent) {
  test::temp_directory dir;
  const sqlite_migration v1[] = {
      {1, "CREATE TABLE a(x INTEGER)"},
      {2, "CREATE TABLE b(x INTEGER); INSERT INTO a VALUES(42)"},
  };
  {
    sqlite_database db(dir / "state.db");
    EXPECT_EQ(db.user_version(), 0);
    EXPECT_EQ(db.migrate(v1), 2);
    EXPECT_EQ(db.migrate(v1), 2); // a second run applies nothing (the INSERT would double)
    EXPECT_EQ(count_rows(db, "a"), 1);
  }
  const sqlite_migration v2[] = {
      v1[0],
      v1[1],
      {3, "INSERT INTO b VALUES(1)"},
  };
  sqlite_database db(dir / "state.db");
  EXPECT_EQ(db.user_version(), 2);
  EXPECT_EQ(db.migrate(v2), 3);
  EXPECT_EQ(count_rows(db, "a"), 1);
  EXPECT_EQ(count_rows(db, "b"), 1);

  // A database from a newer program is refused rather than misread.
  EXPECT_THROW(db.migrate(v1), sqlite_error);
}

TEST(sqlite_database, a_failing_migration_applies_nothing) {
  test::temp_directory dir;
  sqlite_database db(dir / "state.db");
  const sqlite_migration broken[] = {
      {1, "CREATE TABLE a(x INTEGER)"},
      {2, "CREATE TABLE b(x INTEGER); THIS IS NOT SQL"},
  };
  EXPECT_THROW(db.migrate(broken), sqlite_error);
  EXPECT_EQ(db.user_version(), 0);
  EXPECT_THROW(count_rows(db, "a"), sqlite_error);
}

TEST(sqlite_database, state_schema_is_idempotent) {
  test::temp_directory dir;
  sqlite_database db(dir / "state.db");
  ensure_state_schema(db);
  int version = db.user_version();
  EXPECT_GT(version, 0);
  ensure_state_schema(db);
  EXPECT_EQ(db.migrate(state_schema_migrations()), version);
}

} // namespace
} // namespace vigil
