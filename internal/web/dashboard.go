package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
)

// stageBar is one stage's count as a bar.
type stageBar struct {
	Stage change.Stage
	Label string
	Count int
	// Width is the bar's length out of 100: the stage's share of open changes.
	Width int
	URL   string
}

// dashboardSite is one site's (or all sites') numbers ready to draw.
type dashboardSite struct {
	Code                                      string
	Open                                      int
	Stages                                    []stageBar
	OverdueActions, PendingPSSRs              int
	TemporaryExpired, TemporaryNearExpiry     int
	AverageCycleDays                          float64
	ClosedCount                               int
	OverdueURL, ExpiringURL, PSSRURL, OpenURL string
	// EmergencyOverdue are the emergency changes, implemented first,
	// whose full review missed its deadline.
	EmergencyOverdue []string
}

type dashboardData struct {
	Total dashboardSite
	Sites []dashboardSite
}

// dashboardStages are the open stages, in workflow order.
var dashboardStages = []change.Stage{change.StageDraft, change.StageRIKConfirmation, change.StageScreening, change.StageReview,
	change.StageApproval, change.StageImplementation, change.StagePSSR, change.StageInService, change.StageCloseout, change.StageReturned}

func (s *Server) pageShowDashboard(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	sites, err := s.Changes.Dashboard(r.Context(), u)
	if err != nil {
		s.serverFault(w, r, "dashboard", err)
		return
	}
	total := change.SiteDashboard{OpenByStage: map[change.Stage]int{}}
	var cycleDays float64
	var d dashboardData
	for _, sd := range sites {
		total.OverdueActions += sd.OverdueActions
		total.PendingPSSRs += sd.PendingPSSRs
		total.TemporaryExpired += sd.TemporaryExpired
		total.TemporaryNearExpiry += sd.TemporaryNearExpiry
		total.ClosedCount += sd.ClosedCount
		total.EmergencyReviewOverdue = append(total.EmergencyReviewOverdue, sd.EmergencyReviewOverdue...)
		cycleDays += sd.AverageCycleDays * float64(sd.ClosedCount)
		for st, n := range sd.OpenByStage {
			total.OpenByStage[st] += n
		}
		d.Sites = append(d.Sites, dashboardView(sd, strconv.FormatInt(sd.SiteID, 10)))
	}
	if total.ClosedCount > 0 {
		total.AverageCycleDays = float64(int(cycleDays/float64(total.ClosedCount)*10)) / 10
	}
	total.SiteCode = "All sites"
	d.Total = dashboardView(total, "")
	if len(d.Sites) == 1 {
		d.Total, d.Sites = d.Sites[0], nil
	}
	s.render(w, r, http.StatusOK, "dashboard.html", &Page{Title: "Dashboard", Data: d})
}

// dashboardView turns a site's numbers into bars and links to the
// matching change lists.
func dashboardView(sd change.SiteDashboard, site string) dashboardSite {
	v := dashboardSite{Code: sd.SiteCode, OverdueActions: sd.OverdueActions, PendingPSSRs: sd.PendingPSSRs,
		TemporaryExpired: sd.TemporaryExpired, TemporaryNearExpiry: sd.TemporaryNearExpiry,
		AverageCycleDays: sd.AverageCycleDays, ClosedCount: sd.ClosedCount, EmergencyOverdue: sd.EmergencyReviewOverdue}
	link := func(kv ...string) string {
		q := url.Values{}
		if site != "" {
			q.Set("site", site)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return "/changes?" + q.Encode()
	}
	for _, st := range dashboardStages {
		v.Open += sd.OpenByStage[st]
	}
	for _, st := range dashboardStages {
		n := sd.OpenByStage[st]
		b := stageBar{Stage: st, Label: st.Label(), Count: n, URL: link("stage", string(st))}
		if v.Open > 0 {
			b.Width = n * 100 / v.Open
			if n > 0 && b.Width < 2 {
				b.Width = 2 // a visible sliver for small counts
			}
		}
		v.Stages = append(v.Stages, b)
	}
	v.OverdueURL = link("overdue", "1")
	v.ExpiringURL = link("expiring", "14")
	v.PSSRURL = link("stage", string(change.StagePSSR))
	v.OpenURL = link("open", "1")
	return v
}
