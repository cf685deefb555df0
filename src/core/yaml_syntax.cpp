#include "core/yaml_syntax.hpp"

#include <algorithm>

namespace ramfleet {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_break(char c) { return c == '\n' || c == '\r'; }
bool is_flow_indicator(char c) { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}'; }

// Walks the text once, one character at a time, remembering only what decides
// whether a quote or bracket opens something: where the current node may
// start, whether a plain scalar is running, which flow collections are open.
class Scanner {
 public:
  Scanner(std::string_view text, std::size_t end) : text_(text), end_(std::min(end, text.size())) {}

  YamlScan run() {
    while (i_ < end_) step();
    if (quote_) scan_.open.push_back(*quote_);
    return std::move(scan_);
  }

 private:
  // Where the lexer is between tokens.
  enum class State {
    node,   // a node may start here: a quote or bracket opens one
    plain,  // inside a plain scalar: quotes and (in block context) brackets are text
    after,  // right after a quoted scalar, flow collection or alias
  };

  [[nodiscard]] char at(std::size_t k) const { return k < end_ ? text_[k] : '\n'; }
  [[nodiscard]] bool in_flow() const { return !scan_.open.empty(); }
  // An indicator ('-', '?', ':') is one only when followed by a blank, a line
  // break or (in flow context) a flow indicator; "-1" and "a:b" are text.
  [[nodiscard]] bool ends_indicator(std::size_t k) const {
    char n = at(k);
    return is_blank(n) || is_break(n) || (in_flow() && is_flow_indicator(n));
  }
  [[nodiscard]] bool after_blank() const { return i_ == 0 || is_blank(text_[i_ - 1]) || is_break(text_[i_ - 1]); }

  void advance() {
    if (text_[i_] == '\n') {
      ++line_;
      column_ = 0;
      line_start_ = true;
    } else {
      ++column_;
    }
    ++i_;
  }
  void skip_to_line_end() {
    while (i_ < end_ && text_[i_] != '\n') advance();
  }

  void step() {
    if (quote_) return step_quoted();
    if (line_start_ && !in_flow()) return start_line();
    char c = text_[i_];
    if (c == '\n') {
      if (!in_flow() && state_ != State::node) state_ = State::node;
      return advance();
    }
    if (is_blank(c) || c == '\r') return advance();
    if (c == '#' && after_blank()) return skip_to_line_end();
    if (state_ == State::plain) return step_plain(c);
    if (state_ == State::after) return step_after(c);
    step_node(c);
  }

  // Block context, first column: indentation, block scalar bodies, document
  // markers and directives.
  void start_line() {
    line_start_ = false;
    std::size_t indent = 0;
    while (i_ + indent < end_ && text_[i_ + indent] == ' ') ++indent;
    char first = at(i_ + indent);
    bool blank_line = is_break(first) || (i_ + indent >= end_);
    if (block_parent_) {
      if (blank_line || indent > *block_parent_) {
        skip_to_line_end();
        if (i_ < end_) advance();
        return;
      }
      block_parent_.reset();
    }
    if (block_pending_) {
      if (blank_line) {  // blank lines belong to the block scalar whose body may follow
        skip_to_line_end();
        if (i_ < end_) advance();
        return;
      }
      block_pending_ = false;
      if (indent > line_indent_) {
        block_parent_ = line_indent_;
        return start_line();
      }
    }
    line_indent_ = indent;
    state_ = State::node;
    std::string_view rest = text_.substr(i_, end_ - i_);
    if (indent == 0 && (rest.starts_with("---") || rest.starts_with("...")) && ends_indicator(i_ + 3)) {
      for (int k = 0; k < 3; ++k) advance();
      return;
    }
    if (indent == 0 && first == '%') return skip_to_line_end();
    for (std::size_t k = 0; k < indent; ++k) advance();
    if (i_ < end_ && text_[i_] != '\n') step();
  }

  void step_node(char c) {
    if (c == '"' || c == '\'') {
      quote_ = opening(c == '"' ? YamlOpening::Kind::double_quoted : YamlOpening::Kind::single_quoted);
      return advance();
    }
    if (c == '[' || c == '{') {
      scan_.open.push_back(opening(c == '[' ? YamlOpening::Kind::flow_sequence : YamlOpening::Kind::flow_mapping));
      return advance();
    }
    if (in_flow() && (c == ']' || c == '}' || c == ',')) return step_after(c);
    if ((c == '-' || c == '?' || c == ':') && ends_indicator(i_ + 1)) return advance();
    if (c == '&' || c == '!' || c == '*') {  // anchor, tag, alias: a token, then the node
      while (i_ < end_ && !is_blank(text_[i_]) && !is_break(text_[i_]) && !(in_flow() && is_flow_indicator(text_[i_])))
        advance();
      if (c == '*') state_ = State::after;
      return;
    }
    if ((c == '|' || c == '>') && !in_flow()) {  // block scalar: its body is the more indented lines below
      block_pending_ = true;
      return skip_to_line_end();
    }
    state_ = State::plain;
    advance();
  }

  void step_plain(char c) {
    if (c == ':' && ends_indicator(i_ + 1)) {
      state_ = State::node;
      return advance();
    }
    if (in_flow() && is_flow_indicator(c)) return step_after(c);
    advance();
  }

  void step_after(char c) {
    if (c == ':' && (ends_indicator(i_ + 1) || in_flow())) {
      state_ = State::node;
      return advance();
    }
    if (in_flow() && c == ',') {
      state_ = State::node;
      return advance();
    }
    if (in_flow() && (c == ']' || c == '}')) {
      // A mismatched bracket closes the innermost collection too: the error is
      // then reported at that collection, which is what is not closed.
      scan_.open.pop_back();
      state_ = State::after;
      return advance();
    }
    state_ = State::plain;  // text after a closed scalar: not YAML, but not an opening either
    advance();
  }

  void step_quoted() {
    char c = text_[i_];
    bool dbl = quote_->kind == YamlOpening::Kind::double_quoted;
    if (dbl && c == '\\' && i_ + 1 < end_) {
      advance();
      return advance();
    }
    if (!dbl && c == '\'' && at(i_ + 1) == '\'' && i_ + 1 < end_) {
      advance();
      return advance();
    }
    if (c == (dbl ? '"' : '\'')) {
      scan_.last_quoted = *quote_;
      scan_.last_quoted_end_line = line_;
      quote_.reset();
      state_ = State::after;
    }
    advance();
  }

  [[nodiscard]] YamlOpening opening(YamlOpening::Kind kind) const { return {kind, i_, line_, column_}; }

  std::string_view text_;
  std::size_t end_;
  std::size_t i_ = 0, line_ = 0, column_ = 0;
  bool line_start_ = true;
  State state_ = State::node;
  std::optional<YamlOpening> quote_;
  std::size_t line_indent_ = 0;
  bool block_pending_ = false;
  std::optional<std::size_t> block_parent_;  // inside a block scalar: its parent's indentation
  YamlScan scan_;
};

std::string_view describe(YamlOpening::Kind kind) {
  switch (kind) {
    case YamlOpening::Kind::double_quoted:
      return "the double-quoted string opened here";
    case YamlOpening::Kind::single_quoted:
      return "the single-quoted string opened here";
    case YamlOpening::Kind::flow_sequence:
      return "the '[' opened here";
    case YamlOpening::Kind::flow_mapping:
      return "the '{' opened here";
  }
  return "the construct opened here";
}

Diagnostic at_opening(const std::string& file, const YamlOpening& o, std::string message) {
  return {file, o.line + 1, o.column + 1, Diagnostic::Severity::error, std::move(message)};
}

// yaml-cpp's mark as a byte offset (pos is one already; rebuilt from line and
// column if a mark ever comes without it).
std::size_t offset_of(std::string_view text, const YAML::Mark& m) {
  if (m.pos >= 0) return std::min(static_cast<std::size_t>(m.pos), text.size());
  std::size_t off = 0;
  for (int l = 0; l < m.line && off < text.size(); ++off)
    if (text[off] == '\n') ++l;
  return std::min(off + static_cast<std::size_t>(std::max(m.column, 0)), text.size());
}

// True when yaml-cpp itself read a quoted scalar starting at `offset` (its
// mark points at the quote, its tag is "!"), so a string the scan finds still
// open at the end of the file is one yaml-cpp accepted, not a scan mistake.
bool loaded_quoted_scalar_at(const YAML::Node& node, std::size_t offset, int depth = 0) {
  if (depth > 256) return false;  // bounded, whatever the document's nesting
  if (node.IsScalar()) return node.Mark().pos == static_cast<int>(offset) && node.Tag() == "!";
  if (node.IsSequence()) {
    for (const auto& v : node)
      if (loaded_quoted_scalar_at(v, offset, depth + 1)) return true;
  } else if (node.IsMap()) {
    for (const auto& kv : node)
      if (loaded_quoted_scalar_at(kv.first, offset, depth + 1) || loaded_quoted_scalar_at(kv.second, offset, depth + 1))
        return true;
  }
  return false;
}

}  // namespace

YamlScan scan_yaml(std::string_view text, std::size_t end) { return Scanner(text, end).run(); }

Diagnostic yaml_syntax_error(const std::string& file, std::string_view text, const YAML::Exception& e,
                             std::string_view what) {
  const std::string prefix = std::string(what) + ": ";
  if (e.mark.is_null()) return {file, 0, 0, Diagnostic::Severity::error, prefix + e.msg};
  const auto line = static_cast<std::size_t>(e.mark.line) + 1;
  const auto column = static_cast<std::size_t>(e.mark.column) + 1;
  const std::string gave_up =
      "the parser gave up at " + std::to_string(line) + ":" + std::to_string(column) + ": " + e.msg;
  const std::size_t offset = offset_of(text, e.mark);
  auto scan = scan_yaml(text, offset);
  if (!scan.open.empty()) {
    const auto& o = scan.open.back();  // the innermost: a quote inside a '[' is what runs on
    // A parser can only stop inside a quoted string at its end; inside a flow
    // collection it may stop for other reasons, which its own mark names better.
    bool quoted = o.kind == YamlOpening::Kind::double_quoted || o.kind == YamlOpening::Kind::single_quoted;
    bool at_end = text.find_first_not_of(" \t\r\n", offset) == std::string_view::npos;
    if (quoted || at_end || e.msg.find("flow") != std::string::npos)
      return at_opening(file, o, prefix + std::string(describe(o.kind)) + " is not closed (" + gave_up + ")");
  }
  // A quote left open swallows text up to the next quote of its kind, which
  // then "closes" it, and the parser gives up on the rest of that line.
  if (scan.last_quoted && scan.last_quoted->line + 1 < line && scan.last_quoted_end_line + 1 == line) {
    const auto& o = *scan.last_quoted;
    return at_opening(file, o,
                      prefix + std::string(describe(o.kind)) + " runs on to line " + std::to_string(line) +
                          ": is its closing quote missing? (" + gave_up + ")");
  }
  return {file, line, column, Diagnostic::Severity::error, prefix + e.msg};
}

std::variant<YAML::Node, Diagnostic> load_yaml(std::string_view text, const std::string& file, std::string_view what) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return yaml_syntax_error(file, text, e, what);
  }
  auto scan = scan_yaml(text, text.size());
  if (!scan.open.empty()) {
    const auto& o = scan.open.back();
    bool quoted = o.kind == YamlOpening::Kind::double_quoted || o.kind == YamlOpening::Kind::single_quoted;
    if (quoted && loaded_quoted_scalar_at(root, o.offset)) {
      return at_opening(file, o,
                        std::string(what) + ": " + std::string(describe(o.kind)) +
                            " is not closed: it would swallow the rest of the file");
    }
  }
  return root;
}

}  // namespace ramfleet
