package change

// StageOrderSQL exposes the stage sort's expression to the black-box
// tests, which hold the migration's index to it.
var StageOrderSQL = stageOrderSQL
