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

Public Sub OnExportPdf(control As IRibbonControl)
    ' The quote as PDF through Excel itself: the Quote and Lines sheets of the active workbook, with
    ' their print setup (A4), written beside the workbook and opened.
    Dim wb As Workbook
    Dim target As String
    Set wb = ActiveWorkbook
    If wb.Path = "" Then
        MsgBox "Save the quote first: the PDF is written beside it.", vbExclamation, "xlduty"
        Exit Sub
    End If
    If Not (SheetIsThere(wb, "Quote") And SheetIsThere(wb, "Lines")) Then
        MsgBox "This workbook is not an xlduty quote (sheets Quote and Lines).", vbExclamation, "xlduty"
        Exit Sub
    End If
    target = wb.Path & Application.PathSeparator & Left(wb.Name, InStrRev(wb.Name, ".") - 1) & ".pdf"
    If SheetIsThere(wb, "Costs") Then
        wb.Sheets(Array("Quote", "Lines", "Costs")).Select
    Else
        wb.Sheets(Array("Quote", "Lines")).Select
    End If
    ActiveSheet.ExportAsFixedFormat Type:=xlTypePDF, Filename:=target, Quality:=xlQualityStandard, _
        IncludeDocProperties:=True, IgnorePrintAreas:=False, OpenAfterPublish:=True
    wb.Sheets("Quote").Select
End Sub

Private Function SheetIsThere(wb As Workbook, sheetName As String) As Boolean
    Dim sh As Object
    For Each sh In wb.Sheets
        If sh.Name = sheetName Then
            SheetIsThere = True
            Exit Function
        End If
    Next sh
End Function
