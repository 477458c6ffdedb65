# Django leaves thousands ungrouped in Bengali; Bangladesh groups as India does (12,34,567).
NUMBER_GROUPING = (3, 2, 0)
