# Django leaves thousands ungrouped in this language; CLDR groups them by three.
NUMBER_GROUPING = 3
