// Metrics: series by labels, the overflow series, and the text exposition format.
#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

namespace tern::metrics {
namespace {

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

TEST(Metrics, CounterWithLabelsRendersHelpTypeAndSeries) {
    Registry r;
    auto& f = r.counter("tern_test_total", "Things counted.", {"listener", "code"});
    f.counter({"mx", "550"}).add();
    f.counter({"mx", "550"}).add(2);
    f.counter({"submission", "451"}).add();
    auto text = r.render();
    EXPECT_TRUE(has_line(text, "# HELP tern_test_total Things counted.")) << text;
    EXPECT_TRUE(has_line(text, "# TYPE tern_test_total counter")) << text;
    EXPECT_TRUE(has_line(text, "tern_test_total{listener=\"mx\",code=\"550\"} 3")) << text;
    EXPECT_TRUE(has_line(text, "tern_test_total{listener=\"submission\",code=\"451\"} 1")) << text;
}

TEST(Metrics, FamilyWithoutLabelsRendersZeroBeforeUse) {
    Registry r;
    r.counter("tern_nothing_total", "Never counted.");
    r.gauge("tern_level", "A level.");
    auto text = r.render();
    EXPECT_TRUE(has_line(text, "tern_nothing_total 0")) << text;
    EXPECT_TRUE(has_line(text, "tern_level 0")) << text;
}

TEST(Metrics, LabelledFamilyWithoutSeriesRendersOnlyItsHeader) {
    Registry r;
    r.counter("tern_some_total", "Some.", {"site"});
    EXPECT_EQ(r.render(), "# HELP tern_some_total Some.\n# TYPE tern_some_total counter\n");
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
    Registry r;
    r.counter("tern_x_total", "Back\\slash and\nnewline.", {"reason"})
        .counter({"say \"no\"\\\n"})
        .add();
    auto text = r.render();
    EXPECT_TRUE(has_line(text, "# HELP tern_x_total Back\\\\slash and\\nnewline.")) << text;
    EXPECT_TRUE(has_line(text, "tern_x_total{reason=\"say \\\"no\\\"\\\\\\n\"} 1")) << text;
}

TEST(Metrics, GaugeSetsAndAddsFractions) {
    Registry r;
    auto& g = r.gauge("tern_g", "G.", {"state"}).gauge({"open"});
    g.set(2.5);
    g.add(-1);
    EXPECT_DOUBLE_EQ(g.value(), 1.5);
    EXPECT_TRUE(has_line(r.render(), "tern_g{state=\"open\"} 1.5"));
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumAndCount) {
    Registry r;
    auto& h = r.histogram("tern_h_seconds", "H.", {"kind"}, {0.25, 1, 10}).histogram({"a"});
    h.observe(0.125);
    h.observe(0.25);  // on the bound: counted in le="0.25"
    h.observe(5);
    h.observe(100);
    auto text = r.render();
    EXPECT_TRUE(has_line(text, "# TYPE tern_h_seconds histogram")) << text;
    EXPECT_TRUE(has_line(text, "tern_h_seconds_bucket{kind=\"a\",le=\"0.25\"} 2")) << text;
    EXPECT_TRUE(has_line(text, "tern_h_seconds_bucket{kind=\"a\",le=\"1\"} 2")) << text;
    EXPECT_TRUE(has_line(text, "tern_h_seconds_bucket{kind=\"a\",le=\"10\"} 3")) << text;
    EXPECT_TRUE(has_line(text, "tern_h_seconds_bucket{kind=\"a\",le=\"+Inf\"} 4")) << text;
    EXPECT_TRUE(has_line(text, "tern_h_seconds_sum{kind=\"a\"} 105.375")) << text;
    EXPECT_TRUE(has_line(text, "tern_h_seconds_count{kind=\"a\"} 4")) << text;
}

TEST(Metrics, HistogramWithoutLabels) {
    Registry r;
    r.histogram("tern_sizes", "S.", {}, {1, 2}).histogram({}).observe(2);
    auto text = r.render();
    EXPECT_TRUE(has_line(text, "tern_sizes_bucket{le=\"1\"} 0")) << text;
    EXPECT_TRUE(has_line(text, "tern_sizes_bucket{le=\"2\"} 1")) << text;
    EXPECT_TRUE(has_line(text, "tern_sizes_count 1")) << text;
}

TEST(Metrics, SeriesBeyondTheLimitShareTheOverflowSeries) {
    Registry r;
    auto& f = r.counter("tern_sites_total", "S.", {"site", "status"}, 2);
    f.counter({"a.example", "delivered"}).add();
    f.counter({"b.example", "delivered"}).add();
    f.counter({"c.example", "delivered"}).add();
    f.counter({"d.example", "deferred"}).add();
    f.counter({"a.example", "delivered"}).add();  // known series still count on their own
    auto text = r.render();
    EXPECT_TRUE(has_line(text, "tern_sites_total{site=\"a.example\",status=\"delivered\"} 2"));
    EXPECT_TRUE(has_line(text, "tern_sites_total{site=\"_other\",status=\"_other\"} 2")) << text;
    EXPECT_EQ(text.find("c.example"), std::string::npos);
}

TEST(Metrics, MisuseIsAProgrammingError) {
    Registry r;
    auto& f = r.counter("tern_a_total", "A.", {"x"});
    EXPECT_THROW(f.counter({}), std::logic_error);
    EXPECT_THROW(f.gauge({"1"}), std::logic_error);
    EXPECT_EQ(&r.counter("tern_a_total", "A.", {"x"}), &f);
    EXPECT_THROW(r.gauge("tern_a_total", "A."), std::logic_error);
}

TEST(Metrics, ConcurrentUpdatesAreAllCounted) {
    Registry r;
    auto& f = r.counter("tern_c_total", "C.", {"t"});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&f, t] {
            for (int i = 0; i < 10000; ++i)
                f.counter({t % 2 ? "odd" : "even"}).add();
        });
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(f.counter({"odd"}).value() + f.counter({"even"}).value(), 40000u);
}

}  // namespace
}  // namespace tern::metrics

namespace tern::metrics {
namespace {

TEST(Metrics, CounterTotalSumsTheSeriesWithTheChosenLabelValues) {
    Registry r;
    auto& f = r.counter("tern_deliveries_total", "d", {"transport", "status"});
    f.counter({"smtp", "delivered"}).add(3);
    f.counter({"local", "delivered"}).add(4);
    f.counter({"smtp", "bounced"}).add(5);
    f.counter({"smtp", "expired"}).add(7);
    EXPECT_EQ(f.counter_total(), 19u);
    EXPECT_EQ(f.counter_total("status", {"delivered"}), 7u);
    EXPECT_EQ(f.counter_total("status", {"bounced", "expired"}), 12u);
    EXPECT_EQ(f.counter_total("status", {"deferred"}), 0u);
    EXPECT_EQ(f.counter_total("no_such_label", {"delivered"}), 0u);
    EXPECT_EQ(r.find("tern_deliveries_total"), &f);
    EXPECT_EQ(r.find("tern_nothing"), nullptr);
}

}  // namespace
}  // namespace tern::metrics
