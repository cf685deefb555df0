#include "ipxe_script.hpp"

#include <cctype>
#include <sstream>

namespace storm {
namespace {

std::string uri_escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string setting(const std::string& name, const IpxeFacts& f) {
  // net0/mac, netX/mac, mac: iPXE's names for the booting interface's address.
  if (name == "netX/mac" || name == "net0/mac" || name == "mac") return f.mac;
  if (name == "netX/ip" || name == "net0/ip" || name == "ip") return f.ip;
  if (name == "uuid") return f.uuid;
  if (name == "buildarch") return f.buildarch;
  if (name == "platform") return f.platform;
  return "";
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) {
    if (w == "||" || w == "&&") break;  // `kernel ... || goto failed`: the rest is control flow
    out.push_back(w);
  }
  return out;
}

// The first argument that is not an option (--name x, --autofree, -n x).
std::optional<std::size_t> first_operand(const std::vector<std::string>& w) {
  for (std::size_t i = 1; i < w.size(); ++i) {
    if (w[i] == "--name" || w[i] == "-n" || w[i] == "--timeout" || w[i] == "-t") {
      ++i;
      continue;
    }
    if (w[i].rfind("--", 0) == 0 || (w[i].size() == 2 && w[i][0] == '-')) continue;
    return i;
  }
  return std::nullopt;
}

}  // namespace

std::string expand_settings(const std::string& text, const IpxeFacts& facts) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, "${") == 0) {
      auto end = text.find('}', i + 2);
      if (end == std::string::npos) break;
      std::string name = text.substr(i + 2, end - i - 2);
      std::string type;
      if (auto colon = name.find(':'); colon != std::string::npos) {
        type = name.substr(colon + 1);
        name.resize(colon);
      }
      std::string value = setting(name, facts);
      if (type == "hexhyp") {
        for (auto& c : value)
          if (c == ':') c = '-';
      } else if (type == "uristring") {
        value = uri_escape(value);
      }
      out += value;
      i = end + 1;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::optional<IpxeScript> read_ipxe_script(const std::string& text, const IpxeFacts& facts) {
  if (text.rfind("#!ipxe", 0) != 0) return std::nullopt;
  IpxeScript s;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto w = words(expand_settings(line, facts));
    if (w.empty() || w[0][0] == '#' || w[0][0] == ':') continue;
    const std::string& cmd = w[0];
    auto op = first_operand(w);
    if (cmd == "chain" && op && !s.chain && !s.kernel) {
      s.chain = w[*op];
    } else if (cmd == "kernel" && op && !s.kernel) {
      s.kernel = w[*op];
      for (std::size_t i = *op + 1; i < w.size(); ++i) {
        auto eq = w[i].find('=');
        if (eq != std::string::npos) s.kernel_args[w[i].substr(0, eq)] = w[i].substr(eq + 1);
      }
    } else if (cmd == "initrd" && op && s.kernel) {
      s.initrds.push_back(w[*op]);
    } else if (cmd == "exit" && !s.kernel && !s.chain) {
      s.exits = true;
    } else if (cmd == "boot" || cmd == "exit") {
      break;  // what follows is the script's failure path
    }
  }
  return s;
}

std::optional<HttpUrl> parse_http_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return std::nullopt;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  HttpUrl u;
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.find(':');
  u.host = authority.substr(0, colon);
  if (colon != std::string::npos) {
    try {
      int port = std::stoi(authority.substr(colon + 1));
      if (port < 1 || port > 65535) return std::nullopt;
      u.port = static_cast<unsigned short>(port);
    } catch (...) {
      return std::nullopt;
    }
  }
  if (u.host.empty()) return std::nullopt;
  return u;
}

std::string resolve_url(const std::string& base, const std::string& ref) {
  if (ref.rfind("http://", 0) == 0 || ref.rfind("https://", 0) == 0) return ref;
  auto scheme_end = base.find("://");
  auto path_start = scheme_end == std::string::npos ? std::string::npos : base.find('/', scheme_end + 3);
  std::string origin = path_start == std::string::npos ? base : base.substr(0, path_start);
  if (!ref.empty() && ref[0] == '/') return origin + ref;
  std::string dir = path_start == std::string::npos ? "/" : base.substr(path_start);
  dir = dir.substr(0, dir.find('?'));
  dir = dir.substr(0, dir.rfind('/') + 1);
  return origin + dir + ref;
}

}  // namespace storm
