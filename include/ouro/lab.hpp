// ouro/lab.hpp: the lab layer, ouro::lab (CMake target ouro::lab): degeneration metrics, teacher
// forcing, tables, SVG plots and the HTML report of the collapse experiments. Builds on
// ouro::gen (and ouro::core below it).
#pragma once

#include "ouro/lab/bleu.hpp"
#include "ouro/lab/diversity.hpp"
#include "ouro/lab/html_report.hpp"
#include "ouro/lab/interval.hpp"
#include "ouro/lab/loops.hpp"
#include "ouro/lab/next_token_repetition.hpp"
#include "ouro/lab/plot_parts.hpp"
#include "ouro/lab/positional.hpp"
#include "ouro/lab/repetition.hpp"
#include "ouro/lab/self_reinforcement.hpp"
#include "ouro/lab/svg_plot.hpp"
#include "ouro/lab/table.hpp"
#include "ouro/lab/teacher_forcing.hpp"
