// Metrics: counters, gauges and histograms with labels, kept in one Registry per daemon and
// rendered in the Prometheus text exposition format (version 0.0.4) for GET /metrics.
// Any thread may update a metric: values are atomics; a label set's series is found under its
// family's mutex, so a hot path with fixed labels keeps the reference `with()` returns. A family
// holds at most `max_series` label sets; later ones are counted in one series whose every label
// is "_other", so a flood of destinations cannot grow the daemon's memory (docs/metrics.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tern::metrics {

// The values of a series' labels, in the order of its family's label names.
using Labels = std::vector<std::string>;

class Counter {
  public:
    void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

class Gauge {
  public:
    void set(double v) { value_.store(v, std::memory_order_relaxed); }
    void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
    double value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0};
};

class Histogram {
  public:
    // `bounds`: the upper bounds of the buckets, ascending; +Inf is implied.
    explicit Histogram(const std::vector<double>& bounds);
    void observe(double v);
    const std::vector<double>& bounds() const { return bounds_; }
    // Observations per bucket (not cumulative), the last one for +Inf.
    std::vector<std::uint64_t> counts() const;
    double sum() const { return sum_.load(std::memory_order_relaxed); }

  private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
    std::atomic<double> sum_{0};
};

enum class Type { kCounter, kGauge, kHistogram };

// The label sets of one metric name.
class Family {
  public:
    Family(Type type, std::string name, std::string help, std::vector<std::string> label_names,
           std::vector<double> bounds, std::size_t max_series);

    Type type() const { return type_; }
    const std::string& name() const { return name_; }

    // The series of `labels` (as many values as label names), made on first use.
    Counter& counter(const Labels& labels);
    Gauge& gauge(const Labels& labels);
    Histogram& histogram(const Labels& labels);
    // Forgets every series (a gauge family refilled at each scrape).
    void clear();
    // The sum of the counters whose label `label` has one of `values` (every series when
    // `label` is empty): what the dashboard shows as totals.
    std::uint64_t counter_total(std::string_view label = {},
                                std::initializer_list<std::string_view> values = {}) const;

    void render(std::string& out) const;

  private:
    struct Series {
        std::unique_ptr<Counter> counter;
        std::unique_ptr<Gauge> gauge;
        std::unique_ptr<Histogram> histogram;
    };
    Series& series(const Labels& labels);

    Type type_;
    std::string name_;
    std::string help_;
    std::vector<std::string> label_names_;
    std::vector<double> bounds_;
    std::size_t max_series_;
    mutable std::mutex mutex_;
    std::map<Labels, Series> series_;
};

class Registry {
  public:
    // Registers a family (or returns the one of that name, which must have the same type).
    // Names and label names follow Prometheus' rules; the daemon's are fixed in the code.
    Family& counter(std::string name, std::string help, std::vector<std::string> labels = {},
                    std::size_t max_series = 1000);
    Family& gauge(std::string name, std::string help, std::vector<std::string> labels = {},
                  std::size_t max_series = 1000);
    Family& histogram(std::string name, std::string help, std::vector<std::string> labels,
                      std::vector<double> bounds, std::size_t max_series = 1000);

    // Every family in registration order, in the text exposition format.
    std::string render() const;
    // The family named `name`; null when none is registered.
    const Family* find(std::string_view name) const;

  private:
    Family& add(Type type, std::string name, std::string help, std::vector<std::string> labels,
                std::vector<double> bounds, std::size_t max_series);

    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<Family>> families_;
};

// Bucket bounds for a message's time in the queue in (whole) seconds, from 1 s to 5 days.
std::vector<double> queue_delay_buckets();
// Bucket bounds for short latencies in seconds (a spool commit), from 100 µs to 5 s.
std::vector<double> fast_latency_buckets();

// A label value as the exposition format writes it: \\, \" and \n escaped.
std::string escape_label_value(std::string_view value);

}  // namespace tern::metrics
