#include "http/target.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace ramfleet::http {

std::variant<Target, TargetError> parse_target(std::string_view target) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return TargetError{parsed.error().message()};
  const boost::urls::url_view& u = *parsed;
  Target t;
  for (auto s : u.segments()) t.segments.emplace_back(s);
  for (auto p : u.params()) {
    if (t.params.size() == kMaxTargetParams) {
      t.too_many_params = true;
      break;
    }
    t.params.emplace_back(p.key, p.has_value ? std::string(p.value) : std::string{});
  }
  return t;
}

}  // namespace ramfleet::http
