package report

// ReferenceWrite is the client_golang registry + expfmt rendering, for the
// external tests.
var ReferenceWrite = referenceWrite
