#include "core/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace ramfleet::metrics {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::erase_if(bounds_, [](double b) { return !std::isfinite(b); });
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  counts_.assign(bounds_.size() + 1, 0);
}

void Histogram::observe(double value) noexcept {
  if (std::isnan(value)) return;  // would poison the sum for good
  // First bound >= value: `le` is inclusive. Past the end: the +Inf bucket.
  const auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  ++counts_[i];
  ++count_;
  sum_ += value;
}

namespace buckets {
std::vector<double> fast_seconds() {
  return {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.25, 1};
}
std::vector<double> transfer_seconds() {
  return {0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
}
std::vector<double> boot_seconds() { return {1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800}; }
std::vector<double> bytes() {
  std::vector<double> out;
  for (double b = 1024; b <= 4.0 * 1024 * 1024 * 1024; b *= 4) out.push_back(b);
  return out;
}
}  // namespace buckets

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                                 std::vector<double> bounds, std::size_t max_children)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)),
      max_children_(std::max<std::size_t>(max_children, 1)) {}

Histogram& HistogramFamily::with(const std::vector<std::string>& values) {
  if (auto it = children_.find(values); it != children_.end()) return it->second;
  std::vector<std::string> key = values;
  key.resize(label_names_.size());
  // The last slot is kept for the overflow series.
  if (children_.size() + 1 >= max_children_) key.assign(label_names_.size(), "_other");
  return children_.try_emplace(std::move(key), bounds_).first->second;
}

// --- exposition --------------------------------------------------------------

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_label_value(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {
bool name_char(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}
}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, true)) return false;
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, false)) return false;
  return true;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Counts up to 2^53 are exact in a double: print them without an exponent.
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(value));
    return std::string(buf, end);
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, end);
}

namespace {
// `{a="x",b="y"}`, or "" with no labels; `extra` (le) goes last.
std::string render_labels(const Labels& labels, std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return {};
  std::string out = "{";
  for (const auto& [k, v] : labels) {
    if (out.size() > 1) out += ',';
    out += k;
    out += "=\"";
    out += escape_label_value(v);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (out.size() > 1) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
  return out;
}
}  // namespace

Exposition::Family* Exposition::family(std::string_view name, std::string_view help, Type type, const Labels& labels) {
  bool ok = valid_metric_name(name);
  for (const auto& [k, v] : labels) {
    // `le` belongs to the histogram's buckets; a duplicate name would not parse.
    ok = ok && valid_label_name(k) && k != "le" && k != "quantile";
    for (const auto& [k2, v2] : labels) ok = ok && (&k == &k2 || k != k2);
  }
  if (!ok) {
    ++rejected_;
    return nullptr;
  }
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{type, std::string(help), {}, {}}).first;
  } else if (it->second.type != type) {
    ++rejected_;  // one name, two types: keep the first
    return nullptr;
  }
  return &it->second;
}

void Exposition::counter(std::string_view name, std::string_view help, const Labels& labels, double value) {
  std::string full(name);
  if (!full.ends_with("_total")) full += "_total";
  if (auto* f = family(full, help, Type::counter, labels)) f->values[render_labels(labels)] += value;
}

void Exposition::gauge(std::string_view name, std::string_view help, const Labels& labels, double value) {
  if (auto* f = family(name, help, Type::gauge, labels)) f->values[render_labels(labels)] += value;
}

void Exposition::histogram(std::string_view name, std::string_view help, const Labels& labels, const Histogram& h) {
  auto* f = family(name, help, Type::histogram, labels);
  if (f == nullptr) return;
  const std::string key = render_labels(labels);
  if (f->text.contains(key)) return;
  std::string lines;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.bounds().size(); ++i) {
    cumulative += h.counts()[i];
    lines += std::string(name) + "_bucket" + render_labels(labels, "le", format_value(h.bounds()[i])) + ' ' +
             format_value(static_cast<double>(cumulative)) + '\n';
  }
  lines += std::string(name) + "_bucket" + render_labels(labels, "le", "+Inf") + ' ' +
           format_value(static_cast<double>(h.count())) + '\n';
  lines += std::string(name) + "_sum" + key + ' ' + format_value(h.sum()) + '\n';
  lines += std::string(name) + "_count" + key + ' ' + format_value(static_cast<double>(h.count())) + '\n';
  f->text.emplace(key, std::move(lines));
}

std::string Exposition::text() const {
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + ' ' + escape_help(f.help) + '\n';
    out += "# TYPE " + name + ' ';
    out += f.type == Type::counter ? "counter" : f.type == Type::gauge ? "gauge" : "histogram";
    out += '\n';
    for (const auto& [labels, value] : f.values) out += name + labels + ' ' + format_value(value) + '\n';
    for (const auto& [labels, lines] : f.text) out += lines;
  }
  return out;
}

// --- registry ----------------------------------------------------------------

Histogram& Registry::histogram(std::string name, std::string help, std::vector<double> bounds, Labels labels) {
  return histograms_
      .emplace_back(Owned{std::move(name), std::move(help), std::move(labels), Histogram(std::move(bounds))})
      .histogram;
}

HistogramFamily& Registry::histogram_family(std::string name, std::string help, std::vector<std::string> label_names,
                                            std::vector<double> bounds, std::size_t max_children) {
  return families_.emplace_back(std::move(name), std::move(help), std::move(label_names), std::move(bounds),
                                max_children);
}

void Registry::add_collector(std::function<void(Exposition&)> collect) { collectors_.push_back(std::move(collect)); }

void Registry::collect(Exposition& out) const {
  for (const auto& c : collectors_) c(out);
  for (const auto& h : histograms_) out.histogram(h.name, h.help, h.labels, h.histogram);
  for (const auto& fam : families_) {
    for (const auto& [values, h] : fam.children()) {
      Labels labels;
      for (std::size_t i = 0; i < fam.label_names().size(); ++i) labels.emplace_back(fam.label_names()[i], values[i]);
      out.histogram(fam.name(), fam.help(), labels, h);
    }
  }
}

std::string Registry::render() const {
  Exposition out;
  collect(out);
  return out.text();
}

}  // namespace ramfleet::metrics
