// check_self_contained_html: a small validator of self-contained HTML5 pages, which the lab
// program runs on its report (ouro::lab::HtmlReport) before writing it, and the tests on the
// report and on sample pages: balanced tags, the required head elements, and no external
// references.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ouro::examples {

/// Problems that keep `html` from being a self-contained HTML5 page; empty when there are none.
/// Checked: <!DOCTYPE html> first; <meta charset="utf-8">; a non-empty <title>; start and end
/// tags balanced (HTML void elements need no end tag; "/>" closes elements inside <svg> only;
/// every end tag must close the innermost open element); attribute quotes closed; comments and
/// tags terminated; no external reference: src, srcset, poster, <object data> and <link href>
/// must be data: URLs, any attribute starting with http:, https: or ftp: (xmlns attributes are
/// namespace names, not fetched, and are allowed), href values starting with "//" in any
/// element and href values other than "#..." or data: in SVG <image>, <use>, <feImage>, and in
/// CSS (<style> and style attributes) @import and url(...) not starting with data: or #.
/// Each problem is one line naming the line number, e.g.
/// "line 12: </div> closes <span> opened at line 11".
std::vector<std::string> check_self_contained_html(std::string_view html);

} // namespace ouro::examples
