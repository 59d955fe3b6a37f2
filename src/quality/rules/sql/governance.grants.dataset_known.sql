-- Accessibility: a grant that names a dataset the catalogue does not know opens nothing; the department
-- believes it has access that no field decision will ever allow.
--
-- id: governance.grants.dataset_known
-- registry: governance
-- dataset: governance.grants
-- dimension: accessibility
-- severity: warn
-- threshold: 0.05
-- description: Current grants name datasets of the catalogue
-- from: grants g
-- where: g.valid_to IS NULL OR g.valid_to > :as_of
SELECT g.id AS key, NULL AS division_code,
       'grant to ' || g.department_code || ' names dataset ' || g.dataset || ', which the catalogue does not have' AS detail
  FROM grants g
 WHERE (g.valid_to IS NULL OR g.valid_to > :as_of)
   AND NOT (g.dataset = ANY (:dataset_ids))
