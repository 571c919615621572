package repo

// EventKind names a step of a build.
type EventKind string

const (
	EventIndex    EventKind = "index"    // an index is fetched or verified
	EventResolve  EventKind = "resolve"  // resolution started or finished
	EventDownload EventKind = "download" // bytes of a package arrived
	EventUnpack   EventKind = "unpack"
	EventConfig   EventKind = "configure"
	EventLayer    EventKind = "layer"
	EventCommit   EventKind = "commit"
	EventWarning  EventKind = "warning"
	EventDone     EventKind = "done"
)

// Event is one progress report. Current and Total are bytes or items,
// depending on Kind; Total is 0 when unknown.
type Event struct {
	Kind    EventKind `json:"kind"`
	Name    string    `json:"name,omitempty"`
	Message string    `json:"message,omitempty"`
	Current int64     `json:"current,omitempty"`
	Total   int64     `json:"total,omitempty"`
	Cached  bool      `json:"cached,omitempty"`
}

// Reporter receives events. It must be safe for concurrent use and must
// not block for long. A nil Reporter drops events.
type Reporter func(Event)

// Report sends e to r when r is not nil.
func (r Reporter) Report(e Event) {
	if r != nil {
		r(e)
	}
}
