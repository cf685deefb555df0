#include "config/template_renderer.hpp"

#include <kainjow/mustache.hpp>
#include <set>
#include <vector>

namespace ramfleet::config {

namespace mustache = kainjow::mustache;

namespace {

mustache::data to_data(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      mustache::data d{mustache::data::type::object};
      for (const auto& [k, v] : j.items()) d.set(k, to_data(v));
      return d;
    }
    case nlohmann::json::value_t::array: {
      mustache::data d{mustache::data::type::list};
      for (const auto& v : j) d.push_back(to_data(v));
      return d;
    }
    case nlohmann::json::value_t::string:
      return mustache::data{j.get<std::string>()};
    case nlohmann::json::value_t::boolean:
      return mustache::data{j.get<bool>()};
    case nlohmann::json::value_t::null:
      return mustache::data{false};
    default:
      return mustache::data{j.dump()};
  }
}

// Records every name the renderer looked up and did not find.
class RecordingContext : public mustache::basic_context<std::string> {
 public:
  explicit RecordingContext(const mustache::data* root) : inner_(root) {}
  void push(const mustache::data* data) override { inner_.push(data); }
  void pop() override { inner_.pop(); }
  const mustache::data* get(const std::string& name) const override {
    const auto* v = inner_.get(name);
    if (v == nullptr) missing_.insert(name);
    return v;
  }
  const mustache::data* get_partial(const std::string& name) const override {
    const auto* v = inner_.get_partial(name);
    if (v == nullptr) missing_.insert(">" + name);
    return v;
  }
  const std::set<std::string>& missing() const { return missing_; }

 private:
  mustache::context<std::string> inner_;
  mutable std::set<std::string> missing_;
};

struct Tag {
  std::size_t pos = 0;  // offset of "{{" in the text
  std::string raw;      // the tag as written, "{{ labels.role }}"
  char sigil = 0;       // '#', '^', '/', '&', '{', '>', '!' or 0
  std::string name;
};

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// Tags with the default delimiters; enough to point at the failing one.
std::vector<Tag> scan_tags(const std::string& text) {
  std::vector<Tag> tags;
  std::size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string::npos) {
    bool triple = text.compare(pos, 3, "{{{") == 0;
    auto close = text.find(triple ? "}}}" : "}}", pos + (triple ? 3 : 2));
    if (close == std::string::npos) break;
    std::size_t end = close + (triple ? 3 : 2);
    Tag t;
    t.pos = pos;
    t.raw = text.substr(pos, end - pos);
    std::string inner = trim(std::string_view(text).substr(pos + (triple ? 3 : 2), close - pos - (triple ? 3 : 2)));
    if (triple) {
      t.sigil = '{';
    } else if (!inner.empty() && std::string_view("#^/&>!=").find(inner[0]) != std::string_view::npos) {
      t.sigil = inner[0];
      inner = trim(std::string_view(inner).substr(1));
    }
    t.name = inner;
    tags.push_back(std::move(t));
    pos = end;
  }
  return tags;
}

}  // namespace

Location location_of(std::string_view source, std::size_t offset, const std::string& file) {
  Location loc{file, 1, 1};
  for (std::size_t i = 0; i < offset && i < source.size(); ++i) {
    if (source[i] == '\n') {
      ++loc.line;
      loc.column = 1;
    } else {
      ++loc.column;
    }
  }
  return loc;
}

struct TemplateRenderer::Impl {
  mustache::data root;
};

TemplateRenderer::TemplateRenderer(const Variables& vars) : impl_(std::make_unique<Impl>()) {
  impl_->root = vars.is_object() ? to_data(vars) : mustache::data{mustache::data::type::object};
}
TemplateRenderer::~TemplateRenderer() = default;

std::optional<std::string> TemplateRenderer::render(const std::string& text, const ScalarOrigin& origin,
                                                    DiagnosticCollector& diag) const {
  if (text.find("{{") == std::string::npos) return text;
  const auto tags = scan_tags(text);
  // Point at the tag as written in the file: search for it from the scalar's start.
  auto tag_location = [&](const Tag* tag) {
    if (tag != nullptr && !origin.source.empty()) {
      auto found = origin.source.find(tag->raw, origin.offset);
      if (found != std::string_view::npos) return location_of(origin.source, found, origin.at.file);
    }
    return origin.at;
  };

  mustache::mustache tmpl{text};
  if (!tmpl.is_valid()) {
    diag.error(origin.at, "malformed template: " + tmpl.error_message());
    return std::nullopt;
  }
  tmpl.set_custom_escape([](const std::string& s) { return s; });  // config files, not HTML
  RecordingContext ctx{&impl_->root};
  std::string out = tmpl.render(ctx);
  if (!tmpl.is_valid()) {
    diag.error(origin.at, "template error: " + tmpl.error_message());
    return std::nullopt;
  }
  // An inverted section ({{^name}}) is how a template asks "is it unset?": not an error.
  std::set<std::string> inverted;
  for (const auto& t : tags)
    if (t.sigil == '^') inverted.insert(t.name);
  bool failed = false;
  for (const auto& name : ctx.missing()) {
    if (inverted.count(name) != 0) continue;
    const Tag* tag = nullptr;
    for (const auto& t : tags) {
      if (t.name == name || (">" + t.name) == name) {
        tag = &t;
        break;
      }
    }
    diag.error(tag_location(tag), "template variable '" + name + "' is not defined for this machine");
    failed = true;
  }
  if (failed) return std::nullopt;
  return out;
}

}  // namespace ramfleet::config
