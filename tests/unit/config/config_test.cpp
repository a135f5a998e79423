// Unit tests of the configuration loader: defaults, every value kind, and the line-numbered
// errors an operator sees; also keeps docs/configuration.md in step with the schema.
#include "config/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/schema.h"

namespace tern::config {
namespace {

TEST(Config, DefaultsMatchTheEmbeddedServer) {
    Config c = defaults();
    EXPECT_EQ(c.smtp_listen, std::vector<std::string>{"127.0.0.1:2525"});
    EXPECT_EQ(c.data_dir, "./var");
    EXPECT_EQ(c.local_domains, std::vector<std::string>{"localhost"});
    EXPECT_FALSE(c.hostname.empty());
    EXPECT_EQ(c.limits.max_recipients, 1000u);
    EXPECT_EQ(c.limits.max_command_line, 512u);
    EXPECT_EQ(c.command_timeout, std::chrono::seconds(300));
    EXPECT_EQ(c.retry_schedule.size(), 5u);
    EXPECT_EQ(c.max_lifetime, std::chrono::seconds(5 * 86400));
}

TEST(Config, ReadsEveryKind) {
    auto c = load_string(R"(
[server]
hostname = "mx.example.com"
workers = 2
shutdown_grace = "3s"
[log]
format = "json"
[smtp]
listen = ["127.0.0.1:25", "[::1]:25"]
[limits]
message_size = "10M"
command_timeout = 30
[queue]
retry_schedule = ["1s", "2s", "1m"]
max_lifetime = "2d"
delay_warning = 0
)",
                         "t.toml");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->hostname, "mx.example.com");
    EXPECT_EQ(c->workers, 2u);
    EXPECT_EQ(c->shutdown_grace, std::chrono::seconds(3));
    EXPECT_EQ(c->log_format, log::Format::kJson);
    EXPECT_EQ(c->smtp_listen.size(), 2u);
    EXPECT_EQ(c->limits.max_message_size, 10u * 1024 * 1024);
    EXPECT_EQ(c->command_timeout, std::chrono::seconds(30));
    EXPECT_EQ(c->retry_schedule,
              (std::vector<std::chrono::seconds>{std::chrono::seconds(1), std::chrono::seconds(2),
                                                 std::chrono::seconds(60)}));
    EXPECT_EQ(c->max_lifetime, std::chrono::seconds(2 * 86400));
    EXPECT_EQ(c->delay_warning, std::chrono::seconds(0));
}

void expect_error(std::string_view text, std::string_view needle) {
    auto c = load_string(text, "bad.toml");
    ASSERT_FALSE(c) << text;
    EXPECT_NE(c.error().message.find(needle), std::string::npos) << c.error().message;
}

TEST(Config, ErrorsNameFileLineAndProblem) {
    expect_error("[smtp]\nlisten = [\"127.0.0.1:2525\"]\nbogus = 1\n", "bad.toml:3:");
    expect_error("[smtp]\nlisten = [\"127.0.0.1:2525\"]\nbogus = 1\n", "unknown key smtp.bogus");
    expect_error("[nosuch]\nx = 1\n", "bad.toml:1:1: unknown section [nosuch]");
    expect_error("[limits]\n\nrecipients = \"many\"\n", "bad.toml:3:");
    expect_error("[limits]\nrecipients = 0\n",
                 "limits.recipients: expected a value from 1 to 1000000");
    expect_error("[limits]\ncommand_timeout = \"5 minutes\"\n", "expected a duration");
    expect_error("[smtp]\nlisten = [\"localhost\"]\n", "host:port");
    expect_error("[log]\nformat = \"xml\"\n", "one of text, json");
    expect_error("[server\n", "bad.toml:1:");
    expect_error("[limits]\nmessage_size = \"12Q\"\n", "expected a size");
    expect_error("[queue]\nretry_schedule = []\n", "at least one duration");
}

TEST(Config, SessionProtocolKeys) {
    Config d = defaults();
    EXPECT_EQ(d.limits.max_transactions, 1000u);
    EXPECT_EQ(d.limits.bare_lf, smtp::BareLf::kNormalize);
    auto c =
        load_string("[limits]\ntransactions_per_connection = 7\nbare_lf = \"reject\"\n", "t.toml");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->limits.max_transactions, 7u);
    EXPECT_EQ(c->limits.bare_lf, smtp::BareLf::kReject);
    // RFC 9422 limit values have at most six digits.
    expect_error("[limits]\ntransactions_per_connection = 1000000\n",
                 "limits.transactions_per_connection: expected a value from 1 to 999999");
    expect_error("[limits]\nbare_lf = \"strip\"\n", "one of normalize, reject");
}

TEST(Config, MilterKeys) {
    Config d = defaults();
    EXPECT_TRUE(d.milters_mx.empty());
    EXPECT_EQ(d.milter_default_action, "tempfail");
    EXPECT_EQ(d.milter_connect_timeout, Seconds(30));
    EXPECT_EQ(d.milter_command_timeout, Seconds(30));
    EXPECT_EQ(d.milter_end_timeout, Seconds(300));
    EXPECT_EQ(d.milter_max_frame, 1u << 20);
    EXPECT_EQ(d.milter_max_body, 10u << 20);
    auto c = load_string(
        "[milter]\nmx = [\"inet:127.0.0.1:11332\", \"unix:/run/f.sock default_action=accept\"]\n"
        "end_timeout = \"10s\"\nmax_frame = \"64K\"\ndefault_action = \"accept\"\n",
        "t.toml");
    ASSERT_TRUE(c) << c.error().message;
    ASSERT_EQ(c->milters_mx.size(), 2u);
    EXPECT_EQ(c->milter_end_timeout, Seconds(10));
    EXPECT_EQ(c->milter_max_frame, 65536u);
    EXPECT_EQ(c->milter_default_action, "accept");
    auto spec = parse_milter_spec(c->milters_mx[1]);
    ASSERT_TRUE(spec);
    EXPECT_TRUE(spec->address.unix_socket);
    EXPECT_EQ(spec->accept_on_failure, true);
    EXPECT_EQ(parse_milter_spec(c->milters_mx[0])->accept_on_failure, std::nullopt);
    expect_error("[milter]\nmx = [\"inet:localhost:11332\"]\n", "needs an IP address");
    expect_error("[milter]\nsubmission = [\"inet:127.0.0.1:1 default_action=reject\"]\n",
                 "unknown option");
    expect_error("[milter]\ndefault_action = \"reject\"\n", "one of tempfail, accept");
    expect_error("[milter]\nmax_frame = 100\n", "milter.max_frame");
}

TEST(Config, FeedbackKeys) {
    Config d = defaults();
    EXPECT_TRUE(d.feedback_bounce_domain.empty());
    EXPECT_EQ(d.feedback_verp, "api");
    EXPECT_EQ(d.feedback_max_read, 1u << 20);
    EXPECT_EQ(d.feedback_sent_retention, Seconds(30 * 86400));
    EXPECT_TRUE(d.suppression_on_complaint);
    auto c = load_string(
        "[feedback]\nbounce_domain = \"Bounces.Shop.Example\"\n"
        "secrets = [\"0123456789abcdef\"]\naddresses = [\"fbl@shop.example\"]\n"
        "verp = \"all\"\nsent_retention = \"7d\"\n[suppression]\non_complaint = false\n",
        "t.toml");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->feedback_bounce_domain, "bounces.shop.example");
    EXPECT_EQ(c->feedback_verp, "all");
    EXPECT_EQ(c->feedback_sent_retention, Seconds(7 * 86400));
    EXPECT_FALSE(c->suppression_on_complaint);
    expect_error("[feedback]\nbounce_domain = \"b.example\"\n", "feedback.secrets");
    expect_error("[feedback]\nsecrets = [\"short\"]\n", "shorter than 16");
    expect_error("[feedback]\nbounce_domain = \"not a domain\"\n", "not a domain name");
    expect_error("[feedback]\naddresses = [\"fbl\"]\n", "not an address");
    expect_error("[feedback]\nverp = \"some\"\n", "feedback.verp");
    expect_error(
        "[local]\ndomains = [\"shop.example\"]\n[feedback]\nbounce_domain = "
        "\"shop.example\"\nsecrets = [\"0123456789abcdef\"]\n",
        "is a local domain");
    expect_error("[feedback]\nunsubscribe_url = \"ftp://x\"\n", "not an https://HOST URL");
    expect_error("[feedback]\nunsubscribe_url = \"https://\"\n", "not an https://HOST URL");
    expect_error("[feedback]\nunsubscribe_url = \"https://h\xc3\xa9.example\"\n",
                 "printable ASCII");
    expect_error(
        "[feedback]\nunsubscribe_url = \"https://x\"\nsecrets = "
        "[\"0123456789abcdef\"]\n[suppression]\nenabled = false\n",
        "suppression.enabled");
    expect_error("[feedback]\nunsubscribe_url = \"https://x\"\n", "feedback.secrets");
}

TEST(Config, MissingFileIsAnError) {
    auto c = load_file("/nonexistent/tern.toml");
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("/nonexistent/tern.toml"), std::string::npos);
}

TEST(Config, DocsPageListsEveryKey) {
    std::string path = TERN_SOURCE_DIR;
    path.append("/docs/configuration.md");  // (operator+ here trips a g++ 12 false warning)
    std::ifstream in(path);
    ASSERT_TRUE(in) << "docs/configuration.md is missing";
    std::stringstream page;
    page << in.rdbuf();
    // The page is the generated reference under a hand-written introduction.
    EXPECT_NE(page.str().find(reference_markdown()), std::string::npos)
        << "docs/configuration.md is out of date: regenerate it with `tern config-reference`";
}

}  // namespace
}  // namespace tern::config

namespace tern::config {
namespace {

TEST(ChangedSettings, NamesEveryKeyThatDiffersOrIsOnlyInOneFile) {
    auto changed = changed_settings(
        "[smtp]\nlisten = [\"127.0.0.1:25\"]\n[limits]\nrecipients = 100\nerrors = 5\n",
        "[limits]\nerrors = 5\nrecipients = 2\ndata_timeout = \"1m\"\n[smtp]\n"
        "listen = [\"127.0.0.1:25\"]\n");
    ASSERT_TRUE(changed) << changed.error().message;
    EXPECT_EQ(*changed, (std::vector<std::string>{"limits.data_timeout", "limits.recipients"}));
    auto same = changed_settings("[a]\nx = 1\n", "[a]\n# a comment\nx = 1\n");
    ASSERT_TRUE(same);
    EXPECT_TRUE(same->empty());
    auto gone = changed_settings("[a]\nx = [1, 2]\n", "[b]\ny = 2\n");
    ASSERT_TRUE(gone);
    EXPECT_EQ(*gone, (std::vector<std::string>{"a.x", "b.y"}));
    EXPECT_FALSE(changed_settings("[a\n", "[a]\n"));
}

}  // namespace
}  // namespace tern::config
