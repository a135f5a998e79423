// Metrics: the registry, its series and the text exposition format (Prometheus 0.0.4).
#include "metrics/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tern::metrics {
namespace {

// A sample value: integers without a fraction, infinities as Prometheus spells them.
std::string number(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (std::isnan(v)) return "NaN";
    return fmt::format("{}", v);
}

// HELP text escapes only the backslash and the line feed.
std::string escape_help(std::string_view help) {
    std::string out;
    for (char c : help) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

// `{a="x",b="y"}` with an extra label (le) when given; empty when there are no labels.
std::string label_text(const std::vector<std::string>& names, const Labels& values,
                       std::string_view extra_name = {}, std::string_view extra_value = {}) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        out += out.empty() ? "{" : ",";
        out += names[i] + "=\"" + escape_label_value(values[i]) + "\"";
    }
    if (!extra_name.empty()) {
        out += out.empty() ? "{" : ",";
        out += fmt::format("{}=\"{}\"", extra_name, extra_value);
    }
    if (!out.empty()) out += "}";
    return out;
}

const char* type_name(Type t) {
    switch (t) {
        case Type::kCounter:
            return "counter";
        case Type::kGauge:
            return "gauge";
        case Type::kHistogram:
            return "histogram";
    }
    return "untyped";
}

}  // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), counts_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
    for (std::size_t i = 0; i <= bounds_.size(); ++i)
        counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
    auto at = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
    counts_[static_cast<std::size_t>(at)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::counts() const {
    std::vector<std::uint64_t> out(bounds_.size() + 1);
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = counts_[i].load(std::memory_order_relaxed);
    return out;
}

Family::Family(Type type, std::string name, std::string help, std::vector<std::string> label_names,
               std::vector<double> bounds, std::size_t max_series)
    : type_(type),
      name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)),
      max_series_(std::max<std::size_t>(max_series, 1)) {
    // A family without labels has its one series from the start: it renders as 0.
    if (label_names_.empty()) series(Labels{});
}

Family::Series& Family::series(const Labels& labels) {
    if (labels.size() != label_names_.size())
        throw std::logic_error("metric " + name_ + ": wrong number of label values");
    std::lock_guard lock(mutex_);
    auto it = series_.find(labels);
    if (it == series_.end()) {
        Labels key = labels;
        // Full: everything new shares the overflow series (one more than the limit).
        if (series_.size() >= max_series_) key.assign(labels.size(), "_other");
        it = series_.try_emplace(std::move(key)).first;
        Series& s = it->second;
        if (!s.counter && !s.gauge && !s.histogram) {
            if (type_ == Type::kCounter) s.counter = std::make_unique<Counter>();
            if (type_ == Type::kGauge) s.gauge = std::make_unique<Gauge>();
            if (type_ == Type::kHistogram) s.histogram = std::make_unique<Histogram>(bounds_);
        }
    }
    return it->second;
}

Counter& Family::counter(const Labels& labels) {
    if (type_ != Type::kCounter) throw std::logic_error("metric " + name_ + " is not a counter");
    return *series(labels).counter;
}

Gauge& Family::gauge(const Labels& labels) {
    if (type_ != Type::kGauge) throw std::logic_error("metric " + name_ + " is not a gauge");
    return *series(labels).gauge;
}

Histogram& Family::histogram(const Labels& labels) {
    if (type_ != Type::kHistogram)
        throw std::logic_error("metric " + name_ + " is not a histogram");
    return *series(labels).histogram;
}

void Family::clear() {
    std::lock_guard lock(mutex_);
    series_.clear();
}

std::uint64_t Family::counter_total(std::string_view label,
                                    std::initializer_list<std::string_view> values) const {
    std::size_t column = label_names_.size();
    for (std::size_t i = 0; i < label_names_.size(); ++i)
        if (label_names_[i] == label) column = i;
    if (!label.empty() && column == label_names_.size()) return 0;
    std::uint64_t total = 0;
    std::lock_guard lock(mutex_);
    for (const auto& [labels, s] : series_) {
        if (!s.counter) continue;
        if (!label.empty() &&
            std::find(values.begin(), values.end(), labels[column]) == values.end())
            continue;
        total += s.counter->value();
    }
    return total;
}

void Family::render(std::string& out) const {
    out += "# HELP " + name_ + " " + escape_help(help_) + "\n";
    out += "# TYPE " + name_ + " " + type_name(type_) + "\n";
    std::lock_guard lock(mutex_);
    for (const auto& [labels, s] : series_) {
        if (s.counter) {
            out += name_ + label_text(label_names_, labels) + " " +
                   std::to_string(s.counter->value()) + "\n";
        } else if (s.gauge) {
            out += name_ + label_text(label_names_, labels) + " " + number(s.gauge->value()) + "\n";
        } else if (s.histogram) {
            auto counts = s.histogram->counts();
            std::uint64_t total = 0;
            for (std::size_t i = 0; i < counts.size(); ++i) {
                total += counts[i];
                std::string le = i < bounds_.size() ? number(bounds_[i]) : "+Inf";
                out += name_ + "_bucket" + label_text(label_names_, labels, "le", le) + " " +
                       std::to_string(total) + "\n";
            }
            out += name_ + "_sum" + label_text(label_names_, labels) + " " +
                   number(s.histogram->sum()) + "\n";
            out += name_ + "_count" + label_text(label_names_, labels) + " " +
                   std::to_string(total) + "\n";
        }
    }
}

const Family* Registry::find(std::string_view name) const {
    std::lock_guard lock(mutex_);
    for (const auto& f : families_)
        if (f->name() == name) return f.get();
    return nullptr;
}

Family& Registry::add(Type type, std::string name, std::string help,
                      std::vector<std::string> labels, std::vector<double> bounds,
                      std::size_t max_series) {
    std::lock_guard lock(mutex_);
    for (auto& f : families_) {
        if (f->name() != name) continue;
        if (f->type() != type) throw std::logic_error("metric " + name + " registered twice");
        return *f;
    }
    families_.push_back(std::make_unique<Family>(type, std::move(name), std::move(help),
                                                 std::move(labels), std::move(bounds), max_series));
    return *families_.back();
}

Family& Registry::counter(std::string name, std::string help, std::vector<std::string> labels,
                          std::size_t max_series) {
    return add(Type::kCounter, std::move(name), std::move(help), std::move(labels), {}, max_series);
}

Family& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels,
                        std::size_t max_series) {
    return add(Type::kGauge, std::move(name), std::move(help), std::move(labels), {}, max_series);
}

Family& Registry::histogram(std::string name, std::string help, std::vector<std::string> labels,
                            std::vector<double> bounds, std::size_t max_series) {
    std::sort(bounds.begin(), bounds.end());
    return add(Type::kHistogram, std::move(name), std::move(help), std::move(labels),
               std::move(bounds), max_series);
}

std::string Registry::render() const {
    std::string out;
    std::lock_guard lock(mutex_);
    for (const auto& f : families_)
        f->render(out);
    return out;
}

std::vector<double> queue_delay_buckets() {
    return {1, 5, 10, 30, 60, 300, 900, 1800, 3600, 14400, 86400, 432000};
}

std::vector<double> fast_latency_buckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5};
}

}  // namespace tern::metrics
