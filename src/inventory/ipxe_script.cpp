#include "inventory/ipxe_script.hpp"

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

std::string render_boot_script(const std::string& base_url) {
  // ${netX/mac} is the interface iPXE booted from (net0 on a one-NIC machine).
  // :uristring percent-encodes settings that may hold spaces (DMI strings).
  return "#!ipxe\n"
         "# ramfleet: identify this machine, then fetch its own boot script\n"
         ":retry\n"
         "chain --autofree " +
         base_url +
         "/ipxe?mac=${netX/mac}&uuid=${uuid}&arch=${buildarch}&buildarch=${buildarch}"
         "&platform=${platform}&hostname=${hostname:uristring}&serial=${serial:uristring}"
         "&manufacturer=${manufacturer:uristring}&product=${product:uristring} || goto failed\n"
         "exit\n"
         ":failed\n"
         "echo ramfleet: fetching this machine's script failed, retrying in 5 s\n"
         "sleep 5\n"
         "goto retry\n";
}

std::string render_machine_script(const Profile& profile, const TemplateContext& ctx, bool uefi,
                                  const std::string& comment) {
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
  std::string out = "#!ipxe\n";
  out += "# ramfleet: " + comment_line(comment) + "\n";
  out += "kernel " + asset_url(render(profile.kernel, data), ctx) + args + " || goto failed\n";
  for (const auto& [name, url] : initrds) out += "initrd --name " + name + " " + url + " || goto failed\n";
  out += "boot || goto failed\n";
  out += ":failed\n";
  out += "echo ramfleet: boot failed, retrying in 5 s\n";
  out += "sleep 5\n";
  out += "chain --autofree /boot.ipxe\n";
  return out;
}

std::string render_exit_script(const std::string& comment) {
  return "#!ipxe\n# ramfleet: " + comment_line(comment) +
         "\necho ramfleet: this machine is not in the inventory, booting the next device\nexit\n";
}

}  // namespace ramfleet::inventory
