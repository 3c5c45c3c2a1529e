Attribute VB_Name = "XlDutyRibbon"
Option Explicit
' xlduty ribbon callbacks (customUI14.xml onAction). Each runs Python inside the UDF server
' (xlduty.conf: Use UDF Server = True), so the caches the worksheet functions use are the ones
' the buttons refresh. Requires the xlwings module of this project (RunPython).

Public Sub OnRefresh(control As IRibbonControl)
    RunPython "import xlduty.excel.udfs as u; u.ribbon_refresh()"
    ' The functions are non-volatile: recalculate so every cell sees the new rates.
    Application.CalculateFull
End Sub

Public Sub OnExplain(control As IRibbonControl)
    RunPython "import xlduty.excel.udfs as u; u.ribbon_explain()"
End Sub

Public Sub OnNewQuote(control As IRibbonControl)
    RunPython "import xlduty.excel.udfs as u; u.ribbon_new_quote()"
End Sub

Public Sub OnAbout(control As IRibbonControl)
    RunPython "import xlduty.excel.udfs as u; u.ribbon_about()"
End Sub
