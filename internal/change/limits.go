package change

// Bounds on what one request may hold. Each is far beyond what a plant
// needs (a change names a handful of tags, a checklist a few dozen items)
// and keeps one request from costing the server or every later reader of
// the record an unbounded amount.
const (
	// MaxQueryLength bounds the change list's search text (q), in characters.
	MaxQueryLength = 200
	// MaxEquipmentTags bounds the equipment tags of one change.
	MaxEquipmentTags = 50
	// MaxPSSRItems bounds the items of one PSSR checklist template.
	MaxPSSRItems = 300
	// MaxPSSRItemText bounds one checklist item's text, in characters.
	MaxPSSRItemText = 1000
	// MaxPSSRSectionName bounds a checklist section's name, in characters.
	MaxPSSRSectionName = 100
	// MaxPSSRComment bounds the comment of one PSSR answer, in characters.
	MaxPSSRComment = 4000
	// MaxPeoplePerRequest bounds the people named in one request
	// (acknowledgers added, approvers of all stages).
	MaxPeoplePerRequest = 200
	// MaxApprovalStages bounds the approval stages of one change.
	MaxApprovalStages = 10
	// MaxLinksPerChange bounds the related changes linked to one change
	// (either way round).
	MaxLinksPerChange = 50
)
