#include "io/proc/command_line_scrubber.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vigil::proc {
namespace {

using namespace std::string_literals;

// Arguments are written with '|' for the NUL that separates them in /proc/[pid]/cmdline.
std::string argv(std::string text) {
  for (auto& c : text)
    if (c == '|')
      c = '\0';
  return text;
}

std::string scrubbed(std::string text) {
  scrub_command_line(text);
  return text;
}

TEST(command_line_scrubber, option_with_equals) {
  EXPECT_EQ(scrubbed(argv("app|--password=hunter2|--user=bob")),
            argv("app|--password=***|--user=bob"));
  EXPECT_EQ(scrubbed(argv("app|--db-password=x|--passwd=y|-password=z")),
            argv("app|--db-password=***|--passwd=***|-password=***"));
  // A password may contain spaces: the whole argument is masked.
  EXPECT_EQ(scrubbed(argv("app|--password=correct horse battery|-v")),
            argv("app|--password=***|-v"));
}

TEST(command_line_scrubber, option_followed_by_a_separate_value) {
  EXPECT_EQ(scrubbed(argv("app|--password|hunter2|--verbose")),
            argv("app|--password|***|--verbose"));
  EXPECT_EQ(scrubbed(argv("app|--password|two words|--verbose")),
            argv("app|--password|***|--verbose"));
  EXPECT_EQ(scrubbed(argv("keytool|-storepass|changeit|-keystore|x.jks")),
            argv("keytool|-storepass|***|-keystore|x.jks"));
  EXPECT_EQ(scrubbed(argv("app|--token|abc|--secret|def|--api-key|ghi")),
            argv("app|--token|***|--secret|***|--api-key|***"));
  EXPECT_EQ(scrubbed(argv("openssl|enc|-pass|pass:hunter2")), argv("openssl|enc|-pass|***"));
  EXPECT_EQ(scrubbed(argv("app|--password")), argv("app|--password")); // nothing follows
}

TEST(command_line_scrubber, mysql_and_sshpass_short_password_forms) {
  EXPECT_EQ(scrubbed(argv("mysql|-uroot|-phunter2|db")), argv("mysql|-uroot|-p***|db"));
  EXPECT_EQ(scrubbed(argv("/usr/bin/mysqldump|-u|root|-ps3cret|--all-databases")),
            argv("/usr/bin/mysqldump|-u|root|-p***|--all-databases"));
  EXPECT_EQ(scrubbed(argv("mariadb|-p|db")), argv("mariadb|-p|db")); // -p alone prompts
  EXPECT_EQ(scrubbed(argv("sshpass|-p|hunter2|ssh|host")), argv("sshpass|-p|***|ssh|host"));
  EXPECT_EQ(scrubbed(argv("sshpass|-phunter2|ssh|host")), argv("sshpass|-p***|ssh|host"));
  EXPECT_EQ(scrubbed(argv("mongosh|-u|admin|-p|hunter2|db")), argv("mongosh|-u|admin|-p|***|db"));
  EXPECT_EQ(scrubbed(argv("redis-cli|-h|cache|-a|hunter2|ping")),
            argv("redis-cli|-h|cache|-a|***|ping"));
  // Not a password elsewhere.
  EXPECT_EQ(scrubbed(argv("tar|-a|-cf|x.tgz|dir")), argv("tar|-a|-cf|x.tgz|dir"));
  EXPECT_EQ(scrubbed(argv("ssh|-p2222|host")), argv("ssh|-p2222|host"));
  EXPECT_EQ(scrubbed(argv("gcc|-pthread|x.c")), argv("gcc|-pthread|x.c"));
  EXPECT_EQ(scrubbed(argv("mkdir|-p|/tmp/x")), argv("mkdir|-p|/tmp/x"));
}

TEST(command_line_scrubber, curl_user_password) {
  EXPECT_EQ(scrubbed(argv("curl|-u|bob:hunter2|https://x")), argv("curl|-u|bob:***|https://x"));
  EXPECT_EQ(scrubbed(argv("curl|--user|bob:hunter2|https://x")),
            argv("curl|--user|bob:***|https://x"));
  EXPECT_EQ(scrubbed(argv("curl|--user=bob:hunter2|https://x")),
            argv("curl|--user=bob:***|https://x"));
  EXPECT_EQ(scrubbed(argv("curl|-ubob:hunter2|https://x")), argv("curl|-ubob:***|https://x"));
  EXPECT_EQ(scrubbed(argv("curl|-u|bob|https://x")), argv("curl|-u|bob|https://x")); // prompts
}

TEST(command_line_scrubber, key_value_pairs_token_secret_api_key) {
  EXPECT_EQ(scrubbed(argv("app|token=abc|secret=def|passwd=ghi")),
            argv("app|token=***|secret=***|passwd=***"));
  EXPECT_EQ(scrubbed(argv("app|--api_key=K1|apikey=K2|--apiKey=K3|API_KEY=K4|access_key=K5")),
            argv("app|--api_key=***|apikey=***|--apiKey=***|API_KEY=***|access_key=***"));
  EXPECT_EQ(scrubbed(argv("env|PGPASSWORD=pw|AWS_SECRET_ACCESS_KEY=x|psql")),
            argv("env|PGPASSWORD=***|AWS_SECRET_ACCESS_KEY=***|psql"));
  EXPECT_EQ(scrubbed(argv("java|-Dspring.datasource.password=x|-jar|app.jar")),
            argv("java|-Dspring.datasource.password=***|-jar|app.jar"));
  EXPECT_EQ(scrubbed(argv("app|client_secret=s|clientSecret=t|access_token=u")),
            argv("app|client_secret=***|clientSecret=***|access_token=***"));
}

TEST(command_line_scrubber, values_inside_query_strings_and_option_lists_stop_at_their_separator) {
  EXPECT_EQ(scrubbed(argv("curl|https://x.example/api?token=abc123&page=2")),
            argv("curl|https://x.example/api?token=***&page=2"));
  EXPECT_EQ(scrubbed(argv("mount|-o|username=u,password=p,vers=3.0|//srv/share|/mnt")),
            argv("mount|-o|username=u,password=***,vers=3.0|//srv/share|/mnt"));
  EXPECT_EQ(scrubbed(argv("app|Server=db;User Id=sa;Password=p@ss;Encrypt=true")),
            argv("app|Server=db;User Id=sa;Password=***;Encrypt=true"));
}

TEST(command_line_scrubber, url_userinfo_password) {
  EXPECT_EQ(scrubbed(argv("psql|postgres://alice:s3cr3t@db.example:5432/app")),
            argv("psql|postgres://alice:***@db.example:5432/app"));
  EXPECT_EQ(scrubbed(argv("app|--broker=amqp://u:p@ss@mq:5672/")),
            argv("app|--broker=amqp://u:***@mq:5672/"));
  EXPECT_EQ(scrubbed(argv("git|clone|https://user:tok%40en@github.com/x.git")),
            argv("git|clone|https://user:***@github.com/x.git"));
  // No password in the userinfo, or '@' only in the path: untouched.
  EXPECT_EQ(scrubbed(argv("git|clone|ssh://git@host/x.git")),
            argv("git|clone|ssh://git@host/x.git"));
  EXPECT_EQ(scrubbed(argv("curl|http://host/a:b@c")), argv("curl|http://host/a:b@c"));
}

TEST(command_line_scrubber, authorization_headers) {
  EXPECT_EQ(scrubbed(argv("curl|-H|Authorization: Bearer eyJabc.def|-H|Accept: json")),
            argv("curl|-H|Authorization: Bearer ***|-H|Accept: json"));
  EXPECT_EQ(scrubbed(argv("curl|-H|Authorization: Basic dXNlcjpw")),
            argv("curl|-H|Authorization: Basic ***"));
  EXPECT_EQ(scrubbed(argv("curl|-H|authorization: token ghp_x")),
            argv("curl|-H|authorization: token ***"));
  EXPECT_EQ(scrubbed(argv("curl|--header=Authorization:Bearer abc")),
            argv("curl|--header=Authorization:Bearer ***"));
  EXPECT_EQ(scrubbed(argv("curl|-H|Authorization: abc")), argv("curl|-H|Authorization: ***"));
  EXPECT_EQ(scrubbed(argv("curl|-H|X-Api-Key: k123|-H|X-Auth-Token:t456")),
            argv("curl|-H|X-Api-Key: ***|-H|X-Auth-Token:***"));
}

TEST(command_line_scrubber, secrets_inside_shell_strings) {
  EXPECT_EQ(scrubbed(argv("sh|-c|mysql --password='a b' -h db")),
            argv("sh|-c|mysql --password='***' -h db"));
  EXPECT_EQ(scrubbed(argv("sh|-c|mysql --password x -h db")),
            argv("sh|-c|mysql --password *** -h db"));
  EXPECT_EQ(scrubbed(argv("bash|-c|curl -H \"Authorization: Bearer abc\" https://x")),
            argv("bash|-c|curl -H \"Authorization: Bearer ***\" https://x"));
  // An unquoted value runs to the end of the argument: over-masking, never a leak.
  EXPECT_EQ(scrubbed(argv("sh|-c|PGPASSWORD=x psql -h db")), argv("sh|-c|PGPASSWORD=***"));
  // Space-separated text (setproctitle) works the same way.
  EXPECT_EQ(scrubbed("postgres: app --token abc idle"s), "postgres: app --token *** idle"s);
}

TEST(command_line_scrubber, names_that_only_point_at_a_secret_are_kept) {
  for (auto text : {"app|--password-file=/run/secrets/db", "app|--token_path|/var/run/token",
                    "app|--tokenizer=bert", "app|--max-tokens|5", "pg_dump|--no-password|mydb",
                    "docker|login|--password-stdin|registry", "app|PASSWORD_FILE=/x",
                    "app|--user=bob|--host=db", "ls|-la|/tmp"}) {
    auto input = argv(text);
    auto copy = input;
    EXPECT_FALSE(scrub_command_line(copy)) << text;
    EXPECT_EQ(copy, input) << text;
  }
}

TEST(command_line_scrubber, reports_whether_something_was_masked) {
  std::string text = argv("app|--password=x");
  EXPECT_TRUE(scrub_command_line(text));
  std::string empty;
  EXPECT_FALSE(scrub_command_line(empty));
  EXPECT_EQ(empty, "");
}

} // namespace
} // namespace vigil::proc
