// Writes the sample report of tests/lab/sample_report.hpp to the path given, after checking it
// with check_self_contained_html. Run by the ctest lab_report_renders_in_chromium
// (test_report_browser.cmake), which then renders the page in headless Chromium.
#include "lab/html_check.hpp"
#include "lab/sample_report.hpp"

#include <ouro/core/atomic_file.hpp>
#include <ouro/lab/html_report.hpp>

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: ouro_make_sample_report <report.html>\n";
        return 2;
    }
    try {
        const std::string html = ouro::testing::sample_report_html();
        const auto problems = ouro::examples::check_self_contained_html(html);
        for (const auto& p : problems)
            std::cerr << "make_sample_report: " << p << "\n";
        if (!problems.empty())
            return 1;
        ouro::write_file_atomic(argv[1], html);
        std::cout << "wrote " << argv[1] << " (" << html.size() << " bytes)\n";
    } catch (const std::exception& e) {
        std::cerr << "make_sample_report: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
