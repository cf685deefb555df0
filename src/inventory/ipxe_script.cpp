#include "inventory/ipxe_script.hpp"

#include <cstdint>
#include <kainjow/mustache.hpp>
#include <memory>
#include <set>
#include <unordered_map>

namespace ramfleet::inventory {
namespace mstch = kainjow::mustache;

std::string template_error(const std::string& text) {
  mstch::mustache t{text};
  return t.is_valid() ? std::string{} : t.error_message();
}

std::string ipxe_escape(const std::string& value) {
  std::string out = value;
  for (auto& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("._:/@+=,%-").find(c) != std::string_view::npos;
    if (!ok) c = '_';
  }
  return out;
}

namespace {
// Compiled templates, keyed by their text: parsing dominates a render otherwise.
// thread_local because kainjow's render keeps state in the template object.
mstch::mustache& compiled(const std::string& text) {
  thread_local std::unordered_map<std::string, std::unique_ptr<mstch::mustache>> cache;
  auto it = cache.find(text);
  if (it == cache.end()) {
    if (cache.size() >= 4096) cache.clear();  // many reloads with changing templates
    auto t = std::make_unique<mstch::mustache>(text);
    t->set_custom_escape(ipxe_escape);
    it = cache.emplace(text, std::move(t)).first;
  }
  return *it->second;
}

mstch::data to_data(const TemplateContext& ctx) {
  mstch::data d{mstch::data::type::object};
  for (const auto& [k, v] : ctx.vars) d.set(k, v);
  mstch::data md{mstch::data::type::object};
  for (const auto& [k, v] : ctx.metadata) md.set(k, v);
  d.set("metadata", md);
  mstch::data lb{mstch::data::type::object};
  for (const auto& [k, v] : ctx.labels) lb.set(k, v);
  d.set("labels", lb);
  return d;
}

std::string render(const std::string& text, const mstch::data& d) {
  if (text.find("{{") == std::string::npos) return text;
  auto& t = compiled(text);
  if (!t.is_valid()) return text;  // the loader refused invalid templates already
  return t.render(d);
}

bool is_url(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0 || s.rfind("tftp://", 0) == 0;
}

std::string asset_url(const std::string& rendered, const TemplateContext& ctx) {
  if (is_url(rendered)) return rendered;
  std::string name = rendered;
  while (!name.empty() && name.front() == '/') name.erase(name.begin());
  auto it = ctx.vars.find("assets");
  return (it == ctx.vars.end() ? std::string("/assets") : it->second) + "/" + name;
}

// A comment must stay on one line of the script.
std::string comment_line(const std::string& text) {
  std::string out = text;
  for (auto& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}

std::string image_name(const std::string& url) {
  auto q = url.find_first_of("?#");
  std::string path = url.substr(0, q);
  auto slash = path.rfind('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return ipxe_escape(base.empty() ? std::string("initrd") : base);
}
}  // namespace

namespace {
// The retry loop both scripts share. iPXE settings are global, so each script
// names its own counters (`prefix`) and sets them before its first try: a
// script chained again, or the per-machine script inside boot.ipxe's chain,
// starts from its own first try. Typed :int32 so `inc` adds and `${..}`
// expands to a decimal number. A try that fails frees every image fetched so
// far (imgfree): iPXE 2019 keeps two images of one name side by side, and a
// kernel fetched twice would be two kernels in RAM. The running script keeps
// its own reference and goes on.
struct RetryLoop {
  std::string head;  // before the first try
  std::string tail;  // after the tries: the `:failed` label and the loop
};

RetryLoop retry_loop(const std::string& prefix, const std::string& what, const ScriptRetry& r) {
  const std::string tries = std::to_string(r.tries < 1 ? 1 : r.tries);
  const std::string n = prefix + "_try:int32";
  const std::string wait = prefix + "_wait:int32";
  RetryLoop out;
  out.head = "set " + n + " 0\n";
  out.head += "set " + wait + " " + std::to_string(r.first_wait_s) + "\n";
  out.head += ":" + prefix + "\n";
  out.head += "inc " + n + "\n";
  out.tail = ":" + prefix + "_failed\n";
  out.tail += "iseq ${" + n + "} " + tries + " && goto " + prefix + "_give_up || goto " + prefix + "_wait\n";
  out.tail += ":" + prefix + "_wait\n";
  out.tail += "echo ramfleet: " + what + " failed, try ${" + n + "} of " + tries + ", next in ${" + wait + "} + " +
              std::to_string(r.jitter_s) + " s\n";
  out.tail += "imgfree\n";
  out.tail += "sleep ${" + wait + "}\n";
  if (r.jitter_s > 0) out.tail += "sleep " + std::to_string(r.jitter_s) + "\n";
  out.tail += "inc " + wait + " ${" + wait + "}\n";
  out.tail += "goto " + prefix + "\n";
  out.tail += ":" + prefix + "_give_up\n";
  out.tail += "echo ramfleet: " + what + " failed " + tries +
              " times, giving up: exiting to the firmware, which boots its next device\n";
  return out;
}
}  // namespace

unsigned jitter_seconds(std::string_view key, unsigned spread) {
  if (spread == 0) return 0;
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a: stable across runs and builds
  for (const char c : key) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return 1 + static_cast<unsigned>(h % spread);
}

std::string render_boot_script(const std::string& base_url, const ScriptRetry& retry) {
  // ${netX/mac} is the interface iPXE booted from (net0 on a one-NIC machine).
  // :uristring percent-encodes settings that may hold spaces (DMI strings).
  const auto loop = retry_loop("rf_chain", "fetching this machine's script", retry);
  return "#!ipxe\n"
         "# ramfleet: identify this machine, then fetch its own boot script\n" +
         loop.head + "chain --autofree " + base_url +
         "/ipxe?mac=${netX/mac}&uuid=${uuid}&arch=${buildarch}&buildarch=${buildarch}"
         "&platform=${platform}&hostname=${hostname:uristring}&serial=${serial:uristring}"
         "&manufacturer=${manufacturer:uristring}&product=${product:uristring} || goto rf_chain_failed\n"
         "exit\n" +
         loop.tail + "exit 1\n";
}

std::string render_machine_script(const Profile& profile, const TemplateContext& ctx, bool uefi,
                                  const std::string& comment, const ScriptRetry& retry) {
  const mstch::data data = to_data(ctx);
  std::vector<std::pair<std::string, std::string>> initrds;  // name, url
  std::set<std::string> names;
  for (const auto& tpl : profile.initrds) {
    auto url = asset_url(render(tpl, data), ctx);
    auto name = image_name(url);
    for (int n = 1; names.count(name); ++n) name = image_name(url) + "." + std::to_string(n);
    names.insert(name);
    initrds.emplace_back(name, url);
  }
  std::string args;
  if (uefi) {
    for (const auto& [name, url] : initrds) args += " initrd=" + name;
  }
  for (const auto& a : profile.args) {
    auto r = render(a, data);
    for (auto& c : r)
      if (c == '\n' || c == '\r') c = ' ';
    if (!r.empty()) args += " " + r;
  }
  const auto loop = retry_loop("rf_boot", "fetching or booting this machine's kernel and initrds", retry);
  std::string out = "#!ipxe\n";
  out += "# ramfleet: " + comment_line(comment) + "\n";
  out += loop.head;
  out += "kernel " + asset_url(render(profile.kernel, data), ctx) + args + " || goto rf_boot_failed\n";
  for (const auto& [name, url] : initrds) out += "initrd --name " + name + " " + url + " || goto rf_boot_failed\n";
  out += "boot || goto rf_boot_failed\n";
  // Exit 0 at the end: boot.ipxe, which chained here, then exits too instead
  // of fetching this script again (a failed chain would be retried there).
  out += loop.tail + "exit 0\n";
  return out;
}

std::string render_exit_script(const std::string& comment) {
  return "#!ipxe\n# ramfleet: " + comment_line(comment) +
         "\necho ramfleet: this machine is not in the inventory, booting the next device\nexit\n";
}

}  // namespace ramfleet::inventory
