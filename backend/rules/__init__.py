"""The rules as a bureau applies them: the policy file, physician points (医保医师记分) and the
annual assessment (年度考核). See docs/rules.md."""
