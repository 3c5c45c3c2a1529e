Attribute VB_Name = "XlDutyRibbon"
Option Explicit
' xlduty ribbon callbacks (customUI14.xml onAction). Each button calls a public Sub or Function without
' arguments (the Windows acceptance kit, workbook/acceptance, calls those through Application.Run).
' The Python ones run inside the UDF server (xlduty.conf: Use UDF Server = True), so the caches the
' worksheet functions use are the ones the buttons refresh. Before starting Python they check that the
' interpreter the add-in is set to start exists and has xlwings' DLL beside it, and say how to fix it
' (XlDutyFunctions.RibbonText, in Japanese and English) instead of letting a VBA error box appear.
' Keep this module ASCII: VBA stores module text in the project code page. Japanese text comes from
' XlDutyFunctions.Unicode, built by workbook/build.py from xlduty/excel/messages.py.

' VBA's MsgBox shows text in the system ANSI code page, so Japanese would read "???" on a Windows whose
' code page has no Japanese; MessageBoxW shows any Unicode text.
#If VBA7 Then
Private Declare PtrSafe Function MessageBoxW Lib "user32" (ByVal hWnd As LongPtr, ByVal lpText As LongPtr, _
    ByVal lpCaption As LongPtr, ByVal uType As Long) As Long
#Else
Private Declare Function MessageBoxW Lib "user32" (ByVal hWnd As Long, ByVal lpText As Long, _
    ByVal lpCaption As Long, ByVal uType As Long) As Long
#End If

Public Sub OnRefresh(control As IRibbonControl)
    RefreshRates
End Sub

Public Sub OnAbout(control As IRibbonControl)
    AboutXlduty
End Sub

Public Sub OnExplain(control As IRibbonControl)
    ExplainSelection
End Sub

Public Sub OnNewQuote(control As IRibbonControl)
    NewQuote
End Sub

Public Sub OnExportPdf(control As IRibbonControl)
    ExportPdf True
End Sub

Public Sub OnExportCustomerPdf(control As IRibbonControl)
    ExportPdf True, True
End Sub

Public Sub RefreshRates()
    ' The functions are non-volatile: recalculate so every cell sees the new rates.
    If RunXlduty("ribbon_refresh") Then Application.CalculateFull
End Sub

Public Sub AboutXlduty()
    RunXlduty "ribbon_about"
End Sub

Public Sub ExplainSelection()
    RunXlduty "ribbon_explain"
End Sub

Public Sub NewQuote()
    RunXlduty "ribbon_new_quote"
End Sub

Public Function RunXlduty(ByVal action As String) As Boolean
    ' Runs xlduty.excel.udfs.<action>() in Python; True when it ran. A Python exception is shown by
    ' xlwings' own message; a Python that cannot be reached is explained here, never as a VBA error box.
    Dim problem As String
    On Error GoTo failed
    If ActiveWorkbook Is Nothing Then   ' xlwings reads its settings through the active workbook
        ShowMessage XlDutyFunctions.RibbonText("no_workbook"), vbInformation
        Exit Function
    End If
    problem = SetupProblem()
    If problem <> "" Then
        ShowMessage problem, vbExclamation
        Exit Function
    End If
    RunXlduty = (RunPython("import xlduty.excel.udfs as u; u." & action & "()") <> -1)
    Exit Function
failed:
    problem = Err.Description
    Resume report   ' leave the handler, so that nothing below can raise to Excel
report:
    On Error Resume Next
    ShowMessage Fill(XlDutyFunctions.RibbonText("python_failed")) & vbCrLf & problem, vbExclamation
End Function

Public Function SetupProblem() As String
    ' "" when the interpreter set in the config files exists and xlwings' DLL is beside it (where
    ' xlwings' XLPyLoadDLL looks: its folder, then the folder above, as in a virtual environment);
    ' otherwise the text that says what to do. Reads no Python, so it works when Python is missing.
    Dim python As String, folder As String, sep As String
    python = ConfiguredPython()
    If python = "" And GetConfig("CONDA PATH", "") = "" Then
        SetupProblem = Fill(XlDutyFunctions.RibbonText("not_configured"))
    ElseIf python = "" Or FolderOf(python) = "" Then
        ' a conda environment, or a bare "pythonw": xlwings finds them itself; nothing to check here
        SetupProblem = ""
    ElseIf Not FileThere(python) Then
        SetupProblem = Fill(XlDutyFunctions.RibbonText("interpreter_missing"))
    Else
        folder = FolderOf(python)
        sep = Mid$(python, Len(folder) + 1, 1)
        If Not (FileThere(folder & sep & DllName()) Or FileThere(FolderOf(folder) & sep & DllName())) Then
            SetupProblem = Fill(XlDutyFunctions.RibbonText("dll_missing"))
        End If
    End If
End Function

Private Function FolderOf(ByVal path As String) As String
    ' The folder part of a path ("" for a bare name); "/" is accepted as a separator too.
    Dim i As Long
    i = InStrRev(path, "\")
    If InStrRev(path, "/") > i Then i = InStrRev(path, "/")
    If i > 0 Then FolderOf = Left$(path, i - 1)
End Function

Public Function ConfiguredPython() As String
    ' The interpreter xlwings will start, read the way xlwings reads it.
    Dim python As String
    python = GetConfig("INTERPRETER_WIN", "")
    If python = "" Then python = GetConfig("INTERPRETER", "")
    ConfiguredPython = python
End Function

Private Function DllName() As String
    #If Win64 Then
        DllName = "xlwings64-" & XLWINGS_VERSION & ".dll"
    #Else
        DllName = "xlwings32-" & XLWINGS_VERSION & ".dll"
    #End If
End Function

Private Function Fill(ByVal text As String) As String
    ' {console}: the interpreter with a console (python.exe beside pythonw.exe), to see an error.
    Dim python As String
    python = ConfiguredPython()
    text = Replace(Replace(text, "{conf}", GetConfigFilePath()), "{dll}", DllName())
    text = Replace(text, "{console}", Replace(python, "pythonw.exe", "python.exe", 1, -1, vbTextCompare))
    Fill = Replace(text, "{path}", python)
End Function

Private Function FileThere(ByVal path As String) As Boolean
    ' GetAttr fails for a path that does not exist (or a drive that is not there).
    On Error GoTo missing
    FileThere = ((GetAttr(path) And vbDirectory) = 0)
missing:
End Function

Public Sub ShowMessage(ByVal text As String, ByVal icon As Long)
    #If Mac Then
        MsgBox text, icon, "xlduty"
    #Else
        MessageBoxW Application.hWnd, StrPtr(text), StrPtr("xlduty"), icon
    #End If
End Sub

Public Function ExportPdf(Optional ByVal openAfter As Boolean = True, Optional ByVal customer As Boolean = False) _
    As String
    ' The quote as PDF through Excel itself, with the sheets' print setup (A4), written beside the workbook;
    ' returns the PDF's path ("" if none). customer = False: the Quote and Lines (and Costs) sheets, the internal
    ' costing, as <book>.pdf. customer = True: the customer's sheet (mitsumorisho) alone, as
    ' <book>_<that name>.pdf (xlduty export-pdf --customer does the same without Excel). Any error (the PDF open
    ' in a viewer, a folder that cannot be written) is one message naming the PDF, never Excel's VBA error box.
    Dim wb As Workbook
    Dim target As String
    Dim sheetName As String
    Dim problem As String
    On Error GoTo failed
    Set wb = ActiveWorkbook
    If wb Is Nothing Then
        ShowMessage XlDutyFunctions.RibbonText("no_workbook"), vbInformation
        Exit Function
    End If
    sheetName = CustomerSheet()
    If customer Then
        If Not SheetIsThere(wb, sheetName) Then
            ShowMessage XlDutyFunctions.RibbonText("no_customer_sheet"), vbExclamation
            Exit Function
        End If
    ElseIf Not (SheetIsThere(wb, "Quote") And SheetIsThere(wb, "Lines")) Then
        ShowMessage XlDutyFunctions.RibbonText("not_a_quote"), vbExclamation
        Exit Function
    End If
    If wb.Path = "" Then
        ShowMessage XlDutyFunctions.RibbonText("save_first"), vbExclamation
        Exit Function
    End If
    target = wb.Path & Application.PathSeparator & Left(wb.Name, InStrRev(wb.Name, ".") - 1)
    If customer Then
        target = target & "_" & sheetName & ".pdf"
        wb.Sheets(sheetName).Select
    Else
        target = target & ".pdf"
        If SheetIsThere(wb, "Costs") Then
            wb.Sheets(Array("Quote", "Lines", "Costs")).Select
        Else
            wb.Sheets(Array("Quote", "Lines")).Select
        End If
    End If
    ActiveSheet.ExportAsFixedFormat Type:=xlTypePDF, Filename:=target, Quality:=xlQualityStandard, _
        IncludeDocProperties:=True, IgnorePrintAreas:=False, OpenAfterPublish:=openAfter
    If Not customer Then wb.Sheets("Quote").Select
    ExportPdf = target
    Exit Function
failed:
    problem = Err.Description
    Resume report   ' leave the handler, so that nothing below can raise to Excel
report:
    On Error Resume Next
    If Not customer Then wb.Sheets("Quote").Select   ' ungroup the sheets selected for printing
    ShowMessage Replace(XlDutyFunctions.RibbonText("export_failed"), "{path}", target) & vbCrLf & problem, _
        vbExclamation
    ExportPdf = ""
End Function

Private Function CustomerSheet() As String
    ' The customer's sheet, named in Japanese: written as escapes, as this module stays ASCII.
    CustomerSheet = XlDutyFunctions.Unicode("\u898B\u7A4D\u66F8")
End Function

Private Function SheetIsThere(wb As Workbook, sheetName As String) As Boolean
    Dim sh As Object
    For Each sh In wb.Sheets
        If sh.Name = sheetName Then
            SheetIsThere = True
            Exit Function
        End If
    Next sh
End Function
