// Command realapi-server runs the upstream API server for custom resources
// (k8s.io/apiextensions-apiserver) with the two things its stock main leaves to the aggregator of
// a full kube-apiserver, so that kubectl and the Python client can talk to it directly:
//
//   - root discovery: GET /api answers an empty APIVersions and GET /apis an APIGroupList with
//     apiextensions.k8s.io and the group/versions of every Established CustomResourceDefinition;
//   - the OpenAPI v2 document (and the CRDs' schemas in v2 and v3), which kubectl's client-side
//     validation and `kubectl explain` download.
//
// Everything else (flags, serving, storage, admission) is the upstream server's own; this file is
// built by scripts/realapi/build.py from Debian's golang-k8s-apiextensions-apiserver-dev sources.
package main

import (
	"encoding/json"
	"net/http"
	"os"
	"sort"
	"sync/atomic"

	"github.com/spf13/cobra"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	extensionsapiserver "k8s.io/apiextensions-apiserver/pkg/apiserver"
	crdlisters "k8s.io/apiextensions-apiserver/pkg/client/listers/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/cmd/server/options"
	generatedopenapi "k8s.io/apiextensions-apiserver/pkg/generated/openapi"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/version"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/util/openapi"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/component-base/cli"
)

// crdSource is filled in once the server (and with it the CRD informer) exists; the handler
// chain is built before that, so discovery reads it through this indirection.
type crdSource struct {
	lister atomic.Pointer[crdlisters.CustomResourceDefinitionLister]
}

func (s *crdSource) groups() []metav1.APIGroup {
	own := metav1.GroupVersionForDiscovery{
		GroupVersion: apiextensionsv1.SchemeGroupVersion.String(),
		Version:      apiextensionsv1.SchemeGroupVersion.Version,
	}
	out := []metav1.APIGroup{{Name: apiextensionsv1.GroupName, Versions: []metav1.GroupVersionForDiscovery{own}, PreferredVersion: own}}
	lp := s.lister.Load()
	if lp == nil {
		return out
	}
	crds, err := (*lp).List(labels.Everything())
	if err != nil {
		return out
	}
	versionsByGroup := map[string]map[string]bool{}
	for _, crd := range crds {
		if !apihelpers.IsCRDConditionTrue(crd, apiextensionsv1.Established) {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			if versionsByGroup[crd.Spec.Group] == nil {
				versionsByGroup[crd.Spec.Group] = map[string]bool{}
			}
			versionsByGroup[crd.Spec.Group][v.Name] = true
		}
	}
	names := make([]string, 0, len(versionsByGroup))
	for g := range versionsByGroup {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		vs := make([]string, 0, len(versionsByGroup[g]))
		for v := range versionsByGroup[g] {
			vs = append(vs, v)
		}
		// Highest priority first (v2 > v1 > v1beta2 > v1alpha1), as the CRD discovery controller orders them.
		sort.Slice(vs, func(i, j int) bool { return version.CompareKubeAwareVersionStrings(vs[i], vs[j]) > 0 })
		group := metav1.APIGroup{Name: g}
		for _, v := range vs {
			group.Versions = append(group.Versions, metav1.GroupVersionForDiscovery{GroupVersion: g + "/" + v, Version: v})
		}
		group.PreferredVersion = group.Versions[0]
		out = append(out, group)
	}
	return out
}

func writeJSON(w http.ResponseWriter, obj interface{}) {
	body, err := json.Marshal(obj)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// withRootDiscovery answers GET /api and GET /apis and hands every other request to next. It sits
// inside the default chain, so authentication and authorization apply to it as to any path.
func withRootDiscovery(next http.Handler, src *crdSource) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			switch r.URL.Path {
			case "/api", "/api/":
				writeJSON(w, &metav1.APIVersions{
					TypeMeta:                   metav1.TypeMeta{Kind: "APIVersions"},
					Versions:                   []string{},
					ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{},
				})
				return
			case "/apis", "/apis/":
				writeJSON(w, &metav1.APIGroupList{
					TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"},
					Groups:   src.groups(),
				})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func run(cmd *cobra.Command, o *options.CustomResourceDefinitionsServerOptions) error {
	if err := o.Complete(); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	config, err := o.Config()
	if err != nil {
		return err
	}
	definitions := openapi.GetOpenAPIDefinitionsWithoutDisabledFeatures(generatedopenapi.GetOpenAPIDefinitions)
	config.GenericConfig.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(definitions,
		openapinamer.NewDefinitionNamer(extensionsapiserver.Scheme, scheme.Scheme))

	src := &crdSource{}
	config.GenericConfig.BuildHandlerChainFunc = func(apiHandler http.Handler, c *genericapiserver.Config) http.Handler {
		return genericapiserver.DefaultBuildHandlerChain(withRootDiscovery(apiHandler, src), c)
	}

	server, err := config.Complete().New(genericapiserver.NewEmptyDelegate())
	if err != nil {
		return err
	}
	lister := server.Informers.Apiextensions().V1().CustomResourceDefinitions().Lister()
	src.lister.Store(&lister)
	return server.GenericAPIServer.PrepareRun().RunWithContext(cmd.Context())
}

func main() {
	o := options.NewCustomResourceDefinitionsServerOptions(os.Stdout, os.Stderr)
	cmd := &cobra.Command{
		Use:   "realapi-server",
		Short: "apiextensions-apiserver with root discovery and OpenAPI v2, for conformance runs",
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return o.ServerRunOptions.ComponentGlobalsRegistry.Set()
		},
		RunE: func(c *cobra.Command, _ []string) error { return run(c, o) },
	}
	cmd.SetContext(genericapiserver.SetupSignalContext())
	o.AddFlags(cmd.Flags())
	os.Exit(cli.Run(cmd))
}
