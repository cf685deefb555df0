// GET /ui/...: the dashboard's static files, compiled into the binary
// (ui_files.hpp). They hold no data, so they load without a credential; every
// datum the page shows comes from the authenticated API (docs/operations.md,
// "Dashboard"). Only the exact embedded paths exist: nothing is resolved on
// disk, and a "." or ".." segment is refused rather than normalised.
#include <algorithm>
#include <map>

#include "core/sha256.hpp"
#include "http/asset_response.hpp"
#include "http/router.hpp"
#include "http/ui_files.hpp"

namespace ramfleet::http {

namespace {

struct UiFile {
  std::string_view bytes;
  std::string etag;
  std::string_view content_type;
};

std::string_view ui_content_type(std::string_view path) {
  const auto dot = path.rfind('.');
  const auto ext = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  // Module scripts must be served with a JavaScript type or the browser refuses them.
  if (ext == "js") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  return "application/octet-stream";
}

// Built once: the ETag is the content's digest, so it changes exactly when a
// new binary serves different bytes.
const std::map<std::string_view, UiFile, std::less<>>& ui_table() {
  static const auto table = [] {
    std::map<std::string_view, UiFile, std::less<>> t;
    for (const auto& f : ui_files()) {
      t.emplace(f.path, UiFile{f.bytes, "\"" + sha256_hex(f.bytes).substr(0, 32) + "\"", ui_content_type(f.path)});
    }
    return t;
  }();
  return table;
}

// Scripts only from this origin, no inline code, and every fetch to this
// origin: a datum injected into the page (a machine's facts are what a node
// sent) cannot run or send anything anywhere.
constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void security_headers(Reply& r) {
  r.header("Content-Security-Policy", kCsp);
  r.header("X-Content-Type-Options", "nosniff");
  r.header("Referrer-Policy", "no-referrer");
  r.header("X-Frame-Options", "DENY");
}
}  // namespace

Reply handle_ui(ServiceState& st, const Request& req, const std::vector<std::string>& segments) {
  // segments follow "ui": [] is "/ui" (no slash), [""] is "/ui/".
  if (segments.empty()) {
    st.counters.inc("http.ui.redirect");
    Reply r = text_reply(301, "see /ui/\n");
    r.header("Location", "/ui/");
    return r;
  }
  std::string path;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& s = segments[i];
    const bool last = i + 1 == segments.size();
    if (s == "." || s == ".." || (s.empty() && !last) || s.find('/') != std::string::npos ||
        s.find('\0') != std::string::npos) {
      st.counters.inc("http.ui.bad_path");
      return error_reply(400, "bad path under /ui/: no empty, '.' or '..' segments");
    }
    if (i > 0) path += '/';
    path += s;
  }
  if (path.empty() || path.back() == '/') path += "index.html";
  const auto& table = ui_table();
  const auto it = table.find(path);
  if (it == table.end()) {
    st.counters.inc("http.ui.not_found");
    return error_reply(404, "no such dashboard file");
  }
  const UiFile& f = it->second;
  Reply r;
  if (req.if_none_match && etag_list_matches(*req.if_none_match, f.etag)) {
    st.counters.inc("http.ui.not_modified");
    r.status = 304;
  } else {
    st.counters.inc("http.ui.served");
    r.status = 200;
    r.body = std::string(f.bytes);
    r.header("Content-Type", std::string(f.content_type));
  }
  r.header("ETag", f.etag);
  // Revalidate every time: a new binary may serve a new dashboard, and a 304
  // costs one small round trip.
  r.header("Cache-Control", "no-cache");
  security_headers(r);
  return r;
}

}  // namespace ramfleet::http
