"""Build workbook/xlduty.xlsm and workbook/xlduty.xlam from workbook/src (see xlduty/excel/build.py)."""

import sys

from xlduty.excel.build import main

if __name__ == "__main__":
    sys.exit(main())
