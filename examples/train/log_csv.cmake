# Reading train's CSV log in the program tests (examples/train/test_*.cmake).

# The first five columns of data rows [first, last] (1-based) of a CSV log.
function(log_rows file first last out_var)
    file(STRINGS "${file}" lines)
    set(rows "")
    foreach(i RANGE ${first} ${last}) # line 0 is the header
        list(GET lines ${i} line)
        string(REGEX MATCH "^[^,]*,[^,]*,[^,]*,[^,]*,[^,]*" cols "${line}")
        list(APPEND rows "${cols}")
    endforeach()
    set(${out_var} "${rows}" PARENT_SCOPE)
endfunction()

# Column `col` (0-based) of data row `row` (1-based) of a CSV log.
function(log_field file row col out_var)
    file(STRINGS "${file}" lines)
    list(GET lines ${row} line)
    string(REPLACE "," ";" fields "${line}")
    list(GET fields ${col} value)
    set(${out_var} "${value}" PARENT_SCOPE)
endfunction()

# The steps of the rows of a CSV log, separated by spaces.
function(log_steps file out_var)
    file(STRINGS ${file} lines)
    list(REMOVE_AT lines 0)
    set(steps "")
    foreach(line IN LISTS lines)
        string(REGEX MATCH "^[0-9]+" step "${line}")
        string(APPEND steps "${step} ")
    endforeach()
    set(${out_var} "${steps}" PARENT_SCOPE)
endfunction()
