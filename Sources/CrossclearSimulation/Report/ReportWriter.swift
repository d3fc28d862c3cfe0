// Writes every report file of a `crossclear sim` run into one directory.

import Foundation

/// A report file that could not be written.
public struct ReportWriteError: Error, CustomStringConvertible, Sendable {
    /// The file or directory that failed.
    public var path: String
    /// Why, as the operating system put it.
    public var reason: String

    public var description: String { "cannot write \(path): \(reason)" }
}

/// Writes a simulation report as files.
public enum ReportWriter {
    /// Creates `directory` (and its parents) if needed and writes `summary.json`, `timeseries.csv`, the
    /// chart SVGs and `report.html` into it, replacing earlier files of the same names.
    /// - Returns: the written files' paths, in the order written.
    /// - Throws: `ReportWriteError` naming the path that failed.
    public static func write(_ report: SimulationReport, to directory: String) throws -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ReportWriteError(path: directory, reason: reason(error))
        }
        let charts = Charts.all(report)
        let files: [(name: String, text: String)] =
            [("summary.json", SummaryJSON.render(report)), ("timeseries.csv", TimeseriesCSV.render(report))]
            + charts.map { ($0.fileName, $0.chart.svg()) }
            + [("report.html", HTMLReport.render(report, charts: charts))]
        let base = URL(fileURLWithPath: directory, isDirectory: true)
        return try files.map { file in
            let url = base.appendingPathComponent(file.name)
            do {
                try Data(file.text.utf8).write(to: url, options: .atomic)
            } catch {
                throw ReportWriteError(path: url.path, reason: reason(error))
            }
            return url.path
        }
    }

    /// The operating system's own words when Foundation wraps a POSIX error (its wrapper's text can be
    /// as vague as "error 512" on Linux), otherwise Foundation's description.
    private static func reason(_ error: any Error) -> String {
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? any Error {
            let posix = underlying as NSError
            if posix.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(posix.code))) }
        }
        return error.localizedDescription
    }
}
