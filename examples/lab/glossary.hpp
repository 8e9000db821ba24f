// Plain one-line definitions of every column and metric the lab's report shows, so that a reader
// who has not read the papers can follow every table (the report lists them under each table).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace collapse {

/// The definition of a column name ("seq-rep-4", "TP story", ...), or "" when it has none.
std::string definition(const std::string& column);

/// The (column, definition) pairs of the columns that have one, in the columns' order.
std::vector<std::pair<std::string, std::string>>
definitions(const std::vector<std::string>& columns);

/// Columns that have no definition and are not plain labels (decoder, prompt, model, step...):
/// the report warns about them so that a new metric gets its line.
std::vector<std::string> undefined_columns(const std::vector<std::string>& columns);

} // namespace collapse
