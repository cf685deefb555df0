#pragma once
// Metrics for `GET /metrics` (docs/operations.md, "Metrics"): fixed-bucket
// histograms, the Prometheus text exposition format 0.0.4 (Exposition), and a
// Registry that owns the histograms and asks each service's collector for its
// counters and gauges at scrape time.
//
// Cheap on the hot path: a Histogram is resolved once (a reference kept by the
// service), and observe() is a search over a handful of bounds and three
// increments: no lock (every service runs on the one event loop, like
// Counters) and no allocation. Everything that allocates (label maps, text)
// happens when the registry is set up or scraped.
//
// Bounded by construction: label values come from fixed sets in the code, or
// from the inventory's profile names (HistogramFamily, capped); nothing a
// client sends becomes a label.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ramfleet::metrics {

// Label name -> value, in the order they are rendered.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Histogram {
 public:
  // bounds: the buckets' upper bounds (inclusive, Prometheus' `le`), finite
  // and ascending; the +Inf bucket is implicit. Unsorted bounds are sorted.
  explicit Histogram(std::vector<double> bounds);

  void observe(double value) noexcept;

  [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }
  // Per bucket, not cumulative: counts()[i] are the observations in
  // (bounds[i-1], bounds[i]]; counts().back() those above every bound.
  [[nodiscard]] const std::vector<std::uint64_t>& counts() const { return counts_; }
  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

// Common bucket layouts.
namespace buckets {
// 10 µs .. 1 s: in-process decisions (a DHCP reply, an HTTP handler).
std::vector<double> fast_seconds();
// 1 ms .. 120 s: transfers and requests that move files.
std::vector<double> transfer_seconds();
// 1 s .. 30 min: phases of a machine's boot.
std::vector<double> boot_seconds();
// 1 KiB .. 4 GiB, by powers of 4.
std::vector<double> bytes();
}  // namespace buckets

// A histogram whose label values are known only at run time (the inventory's
// profile names). At most `max_children` series: beyond that, observations go
// to one series whose every label is "_other", so a stream of new names
// cannot grow memory or the scrape.
class HistogramFamily {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names, std::vector<double> bounds,
                  std::size_t max_children);
  // The series for these label values (as many as label names); allocates
  // only the first time a combination is seen.
  Histogram& with(const std::vector<std::string>& values);

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::string& help() const { return help_; }
  [[nodiscard]] const std::vector<std::string>& label_names() const { return label_names_; }
  [[nodiscard]] const std::map<std::vector<std::string>, Histogram>& children() const { return children_; }

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  std::size_t max_children_;
  std::map<std::vector<std::string>, Histogram> children_;
};

// One scrape's text, in exposition format 0.0.4. Samples of one metric are
// grouped under one `# HELP` and `# TYPE` whatever order they are added in;
// families are written in name order. Counter names get `_total`. A counter
// or gauge added twice with the same labels is summed (two services counting
// one thing); a histogram added twice keeps the first. Invalid metric or
// label names are a programming error: they are skipped and counted
// (rejected()), never written, so the output always parses.
class Exposition {
 public:
  void counter(std::string_view name, std::string_view help, const Labels& labels, double value);
  void gauge(std::string_view name, std::string_view help, const Labels& labels, double value);
  void histogram(std::string_view name, std::string_view help, const Labels& labels, const Histogram& h);

  [[nodiscard]] std::string text() const;
  [[nodiscard]] std::size_t rejected() const { return rejected_; }

  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  enum class Type { counter, gauge, histogram };
  struct Family {
    Type type = Type::counter;
    std::string help;
    std::map<std::string, double> values;     // counter, gauge: rendered labels -> value
    std::map<std::string, std::string> text;  // histogram: rendered labels -> its sample lines
  };
  Family* family(std::string_view name, std::string_view help, Type type, const Labels& labels);

  std::map<std::string, Family, std::less<>> families_;
  std::size_t rejected_ = 0;
};

// Escaping of the exposition format: HELP text (backslash, newline) and label
// values (backslash, double quote, newline).
std::string escape_help(std::string_view text);
std::string escape_label_value(std::string_view text);
// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names: [a-zA-Z_][a-zA-Z0-9_]*, not starting "__".
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);
// A sample value: integers without a fraction, others shortest round-trip, +Inf, -Inf, NaN.
std::string format_value(double value);

// What serve exposes: histograms it owns (stable addresses for the services
// to keep) and collectors that add counters and gauges at scrape time. Owned
// by `ramfleet serve` and outliving every service that holds a reference.
class Registry {
 public:
  Histogram& histogram(std::string name, std::string help, std::vector<double> bounds, Labels labels = {});
  HistogramFamily& histogram_family(std::string name, std::string help, std::vector<std::string> label_names,
                                    std::vector<double> bounds, std::size_t max_children = 1024);
  // Called at every scrape, in the order added.
  void add_collector(std::function<void(Exposition&)> collect);

  void collect(Exposition& out) const;
  [[nodiscard]] std::string render() const;

 private:
  struct Owned {
    std::string name;
    std::string help;
    Labels labels;
    Histogram histogram;
  };
  std::deque<Owned> histograms_;  // deque: references stay valid as it grows
  std::deque<HistogramFamily> families_;
  std::vector<std::function<void(Exposition&)>> collectors_;
};

}  // namespace ramfleet::metrics
