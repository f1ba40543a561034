// Package cfn reads CloudFormation templates as CDK synthesizes them, decoded from JSON into
// map[string]any. It has no dependencies, so both test helpers and local tooling can use it.
package cfn

// Resources returns the Properties of the template's resources of type typ (e.g.
// "AWS::Lambda::Function"), by logical ID. A resource without Properties gets an empty map; a
// template without Resources gives an empty result.
func Resources(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	res, _ := tpl["Resources"].(map[string]any)
	for id, r := range res {
		m, _ := r.(map[string]any)
		if m["Type"] == typ {
			props, _ := m["Properties"].(map[string]any)
			if props == nil {
				props = map[string]any{}
			}
			out[id] = props
		}
	}
	return out
}
